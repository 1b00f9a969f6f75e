"""The loopback API: how phone systems, chat tools and speech-to-text feed the copilot."""

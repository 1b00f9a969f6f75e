# Loaded by subprocesses that tests start with this folder on PYTHONPATH.
import netguard

netguard.install()

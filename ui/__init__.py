"""The Qt window. Draws and wires signals; all real work lives in ``copilot``."""

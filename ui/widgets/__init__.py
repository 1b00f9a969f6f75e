"""Widgets that only draw: panels, boxes and views the controllers fill."""

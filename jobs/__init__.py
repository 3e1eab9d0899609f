"""Scheduled and background jobs. ``registry.JOBS`` names every schedulable job."""

"""Scheduled and background jobs. ``registry.JOBS`` names every schedulable job;
``context.with_app_context`` is the worker's entry that builds the app for a job."""

"""告警设置, the nightly check, the 9 o'clock alerts and the task-force summary (issue 14)."""

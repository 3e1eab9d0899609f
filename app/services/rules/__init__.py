"""Testing-frequency rules and alerts (告警设置 / 告警推送, SPEC §4): the settings
(``settings``), the nightly check (``evaluate``), the results as users read them
(``compliance``), the 9 o'clock alerts and the task-force summary (``alerts``).
Health data is read only through ``health_source``."""

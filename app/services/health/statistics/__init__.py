"""数据统计: the tables with their drill-downs and exports (``tables``), built on the
counts of samplings (``samplings``) and of vaccinations (``vaccinations``)."""

"""Truck drivers at the checkpoints (货车司机管理, SPEC §5, seed 002).

* :mod:`.verifier` — the pluggable identity check (实名认证) of a booking;
* :mod:`.bookings` — a driver's booking and its pass, the QR image, a driver's own
  bookings, the booking images;
* :mod:`.checkpoint` — the scan and the one-time decision;
* :mod:`.notifications` — the messages after a decision (seed 002 §2.8);
* :mod:`.summary` — the 12:00 / 18:00 summary to the task force (``checkpoint.summary``);
* :mod:`.recipients` — who is told of decisions (告警设置 of the module).
"""

"""Upload limits for spreadsheet imports.

Defaults suit a district deployment; callers override them from configuration, e.g.
``Limits(max_bytes=app.config["IMPORT_MAX_BYTES"])``.
"""

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What an uploaded file may be before it is refused.

    ``max_bytes``: size of the uploaded file itself.
    ``max_rows``: data rows (blank rows and the template's example row not counted).
    ``max_uncompressed``: sum of the uncompressed sizes of a zip-based workbook (its
    XML): 200 MB. Measured: 100,000 rows in the staff template's 8 columns (the
    benchmark's workbook, inline strings as XlsxWriter writes them) are 51 MB of
    sheet XML; 100,000 rows of the app's own 16-column staff export, 108 MB. More is
    refused before any cell is read (a 7 MB upload of 380 MB of XML, accepted under
    the former 400 MB, took a worker to ~780 MB).
    ``max_ratio``: uncompressed/compressed ratio allowed for any sizeable zip member
    (members smaller than ``ratio_floor`` bytes uncompressed are not ratio-checked:
    tiny XML parts compress far beyond 200x and are harmless).
    """

    max_bytes: int = 20 * MIB
    max_rows: int = 100_000
    max_uncompressed: int = 200 * MIB
    max_ratio: int = 200
    ratio_floor: int = 1 * MIB

    @classmethod
    def from_config(cls, config, prefix="IMPORT_"):
        """Limits from a mapping such as ``app.config``: IMPORT_MAX_BYTES, IMPORT_MAX_ROWS,
        IMPORT_MAX_UNCOMPRESSED, IMPORT_MAX_RATIO; absent keys keep the defaults."""
        names = ("max_bytes", "max_rows", "max_uncompressed", "max_ratio", "ratio_floor")
        values = {n: int(config[prefix + n.upper()]) for n in names
                  if config.get(prefix + n.upper()) not in (None, "")}
        return cls(**values)

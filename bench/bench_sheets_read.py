"""Benchmark: reading a 100,000-row staff workbook.

Generates the workbook with XlsxWriter in a temp dir, then times, each in a fresh
child process (so peak RSS is per reader): python-calamine bare read, openpyxl
read_only, app.sheets.read_sheet (all rows iterated), the zip-bomb pre-check alone,
and a 100k-row export with app.sheets.stream_xlsx.

    .venv/bin/python bench/bench_sheets_read.py [ROWS]
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

HEADERS = ["姓名", "身份证号码", "手机号码", "工作人员种类", "人员类别", "居住地址"]
KINDS = ["拆件或装卸等人员", "驾驶员", "管理人员"]
CATEGORIES = ["高风险人员", "管理人员"]


def generate(path, rows):
    import xlsxwriter

    wb = xlsxwriter.Workbook(path, {"constant_memory": True})
    ws = wb.add_worksheet("人员信息")
    text = wb.add_format({"num_format": "@"})
    ws.write_row(0, 0, HEADERS)
    for i in range(rows):
        r = i + 1
        ws.write_string(r, 0, f"员工{i:06d}")
        ws.write_string(r, 1, f"440115199007{i % 1000000:06d}", text)
        ws.write_number(r, 2, 13500000000 + i)  # phone stored as a number, as users do
        ws.write_string(r, 3, KINDS[i % 3])
        ws.write_string(r, 4, CATEGORIES[i % 2])
        ws.write_string(r, 5, f"广州市南沙区南沙街道{i % 500}号{i % 37}栋")
    wb.close()


def run_calamine(path):
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(path)
    n = sum(1 for _ in wb.get_sheet_by_index(0).iter_rows())
    return n


def run_openpyxl(path):
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    n = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    return n


def run_read_sheet(path):
    from app.sheets import Column, Limits, SheetSpec, read_sheet

    spec = SheetSpec((
        Column("name", "姓名", required=True),
        Column("id_number", "身份证号码", required=True, as_text=True),
        Column("phone", "手机号码", required=True, as_text=True),
        Column("worker_kind", "工作人员种类"), Column("category", "人员类别"),
        Column("address", "居住地址")))
    parsed = read_sheet(path, os.path.basename(path), spec, Limits())
    return sum(1 for _ in parsed.rows)


def run_zip_check(path):
    from app.sheets.limits import Limits
    from app.sheets.sources import check_zip

    with open(path, "rb") as fh:
        check_zip(fh.read(), Limits())
    return 0


def run_export(path):
    from app.sheets import stream_xlsx

    out = path + ".export.xlsx"
    rows = ([f"员工{i:06d}", f"440115199007{i % 1000000:06d}", 13500000000 + i,
             KINDS[i % 3], CATEGORIES[i % 2], f"广州市南沙区南沙街道{i % 500}号"]
            for i in range(ROWS))
    n = stream_xlsx(out, HEADERS, rows, {1, 2})
    os.remove(out)
    return n


def run_baseline(path):
    return 0  # python + openpyxl + python-calamine + app.sheets imported, nothing read


RUNNERS = {"baseline (after imports)": run_baseline, "python-calamine bare": run_calamine,
           "openpyxl read_only": run_openpyxl, "zip-bomb check only": run_zip_check,
           "read_sheet() + iterate": run_read_sheet, "stream_xlsx export": run_export}
ROWS = int(os.environ.get("BENCH_ROWS", "100000"))


def child(name, path, traced):
    # Import everything first so that timings measure reading, not module loading.
    import openpyxl  # noqa: F401
    import python_calamine  # noqa: F401
    import app.sheets  # noqa: F401

    if traced:  # tracemalloc slows Python code several-fold: separate run, peak only
        tracemalloc.start()
        RUNNERS[name](path)
        _, peak = tracemalloc.get_traced_memory()
        print(json.dumps({"traced": peak / 2**20}))
        return
    t0 = time.perf_counter()
    n = RUNNERS[name](path)
    seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB → MiB (Linux)
    print(json.dumps({"rows": n, "seconds": seconds, "rss": rss}))


def spawn(name, path, traced=False):
    env = dict(os.environ, BENCH_ROWS=str(ROWS))
    args = [sys.executable, __file__, "--child", name, path] + (["--traced"] if traced else [])
    out = subprocess.run(args, capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    global ROWS
    if len(sys.argv) > 1:
        ROWS = int(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "staff.xlsx")
        t0 = time.perf_counter()
        generate(path, ROWS)
        print(f"generated {ROWS} rows in {time.perf_counter() - t0:.2f}s, "
              f"{os.path.getsize(path) / 2**20:.1f} MiB")
        print(f"{'reader':28} {'rows':>8} {'seconds':>8} {'peak RSS MiB':>13} "
              f"{'py-traced MiB':>14}")
        for name in RUNNERS:
            r = spawn(name, path)
            traced = spawn(name, path, traced=True)["traced"]
            print(f"{name:28} {r['rows']:>8} {r['seconds']:>8.2f} {r['rss']:>13.0f} "
                  f"{traced:>14.1f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], "--traced" in sys.argv)
    else:
        main()

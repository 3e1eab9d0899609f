"""In-process profile of the checkpoint flow (issue 15): per-request wall/CPU ms of scan, decide and the keys
endpoint, SQL statements per request; ``--profile`` adds cProfile, ``-v`` lists the statements.
    .venv/bin/python bench/profile_checkpoint.py [--profile] [-v]   (N=300 passes per run)"""
import cProfile, pstats, os, sys, time, uuid, tempfile, json
ROOT = os.environ.get("ROOT", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT); sys.path.insert(0, ROOT + "/bench")
os.chdir(ROOT)
PROFILE = "--profile" in sys.argv
import bench_checkpoint as B
db_name, url = B.create_database()
instance = tempfile.mkdtemp()
prefix = f"sentinel-prof-{uuid.uuid4().hex[:8]}:"
env = {"DATABASE_URL": url, "REDIS_URL": B.REDIS_URL, "REDIS_PREFIX": prefix, "QUEUE_NAME": prefix.rstrip(":"),
       "SENTINEL_INSTANCE_DIR": instance, "AUTH_RATE_LIMIT": "100000 per minute", "SECRET_KEY": uuid.uuid4().hex*2,
       "ID_HASH_KEY": uuid.uuid4().hex, "DATA_KEY": uuid.uuid4().hex*2, "PASS_SIGNING_KEY": uuid.uuid4().hex*2}
N = int(os.environ.get("N", "300"))
try:
    codes = B.prepare(env, 2 * N + 50)
    from app import create_app
    from sqlalchemy import event
    from app.platform.extensions import db
    app = create_app()
    counts = {"n": 0}
    stmts = []
    with app.app_context():
        @event.listens_for(db.engine, "before_cursor_execute")
        def _count(conn, cursor, statement, params, context, executemany):
            counts["n"] += 1
            if counts.get("log"): stmts.append(statement.split("\n")[0][:150])
    c = app.test_client()
    tok = c.post("/api/v1/security/login", json={"username": "checkpoint", "password": B.PASSWORD, "provider": "db"}).json["access_token"]
    h = {"Authorization": f"Bearer {tok}"}
    for code in codes[:20]:
        c.post("/api/v1/checkpoint/scan", json={"code": code}, headers=h)
        c.post("/api/v1/checkpoint/decide", json={"code": code, "allow": True}, headers=h)
    for i in range(200): c.get("/api/v1/checkpoint/keys")
    t = time.perf_counter()
    for i in range(500): c.get("/api/v1/checkpoint/keys")
    print("keys ms", round((time.perf_counter()-t)/500*1000, 3))
    # statements: log one enterprise-driver and one other flow
    for code in codes[20:26]:
        counts["log"] = True; stmts.clear(); counts["n"] = 0
        c.post("/api/v1/checkpoint/scan", json={"code": code}, headers=h); ns = counts["n"]; sl = list(stmts)
        stmts.clear(); counts["n"] = 0
        c.post("/api/v1/checkpoint/decide", json={"code": code, "allow": False, "reason": "其他"}, headers=h); nd = counts["n"]
        print("statements scan", ns, "decide", nd)
        if "-v" in sys.argv:
            print("  SCAN:", *sl, sep="\n    "); print("  DECIDE:", *stmts, sep="\n    ")
    counts["log"] = False
    def run(todo, allow):
        counts["n"] = 0
        ts = td = 0.0; cs = cd = 0.0
        for code in todo:
            t0 = time.perf_counter(); c0 = time.process_time()
            r = c.post("/api/v1/checkpoint/scan", json={"code": code}, headers=h); assert r.status_code == 200, r.json
            t1 = time.perf_counter(); c1 = time.process_time()
            r = c.post("/api/v1/checkpoint/decide", json={"code": code, "allow": allow, "reason": None if allow else "其他"}, headers=h); assert r.status_code == 200, r.json
            t2 = time.perf_counter(); c2 = time.process_time()
            ts += t1 - t0; td += t2 - t1; cs += c1 - c0; cd += c2 - c1
        n = len(todo)
        print(f"allow={allow}: scan ms wall {ts/n*1000:.2f} cpu {cs/n*1000:.2f}; decide ms wall {td/n*1000:.2f} cpu {cd/n*1000:.2f};"
              f" per request wall {(ts+td)/(2*n)*1000:.2f} cpu {(cs+cd)/(2*n)*1000:.2f}; statements/request {counts['n']/(2*n):.2f}")
    def again(todo):
        """The race's losers: a second decision (409) and a later scan (409) of decided passes."""
        t0 = time.perf_counter(); c0 = time.process_time()
        for code in todo:
            r = c.post("/api/v1/checkpoint/decide", json={"code": code, "allow": True}, headers=h); assert r.status_code == 409
        t1 = time.perf_counter(); c1 = time.process_time()
        for code in todo:
            r = c.post("/api/v1/checkpoint/scan", json={"code": code}, headers=h); assert r.status_code == 409
        t2 = time.perf_counter(); c2 = time.process_time()
        n = len(todo)
        print(f"409 decide ms wall {(t1-t0)/n*1000:.2f} cpu {(c1-c0)/n*1000:.2f}; 409 scan ms wall {(t2-t1)/n*1000:.2f} cpu {(c2-c1)/n*1000:.2f}")
    # CPU=1: attribute CPU time (process_time) instead of wall time (waits on PostgreSQL excluded)
    pr = cProfile.Profile(time.process_time) if os.environ.get("CPU") else cProfile.Profile()
    if PROFILE: pr.enable()
    run(codes[30:30+N], False)
    run(codes[30+N:30+2*N], True)
    again(codes[30:30+N])
    if PROFILE:
        pr.disable()
        st = pstats.Stats(pr)
        # a machine-independent measure of the Python work (the same code makes the same calls)
        print(f"python function calls a request: {st.total_calls / (6 * N):.0f}")
        if os.environ.get("QUIET"):
            raise SystemExit
        st.sort_stats("cumulative").print_stats(90)
        st.sort_stats("tottime").print_stats(40)
        if os.environ.get("CALLEES"):
            for pattern in os.environ["CALLEES"].split(","):  # CALLEES=regex,regex: what each one's time went to
                st.print_callees(pattern)
        for pattern in filter(None, os.environ.get("CALLERS", "").split(",")):
            st.print_callers(pattern)
finally:
    B.drop_database(db_name)
    from app_processes import forget_redis
    forget_redis(B.REDIS_URL, prefix.rstrip(":"))  # the decisions' delivery jobs and our keys

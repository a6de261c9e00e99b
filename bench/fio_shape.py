"""A client run reported in fio's JSON shape (the fields bench/summarize.py reads), for the
workloads that run another client than fio: bench/copy_run.py (nbdcopy) and
bench/qemu_bench_run.py (qemu-img bench)."""
import json
import sys


def dump(workload, direction, ios, request, elapsed, before, after, **counts):
    """Prints one job's JSON: ios requests of request bytes in elapsed seconds, one direction,
    and the client's CPU between the getrusage readings before and after (children's), in fio's
    terms: percent of the run's time. counts (copies=, runs=) go into the job as they are."""
    figures = {"bw_bytes": ios * request / elapsed, "iops": ios / elapsed, "total_ios": ios, "runtime": elapsed * 1000}
    idle = {"bw_bytes": 0, "iops": 0, "total_ios": 0, "runtime": 0}
    cpu = {"usr_cpu": 100 * (after.ru_utime - before.ru_utime) / elapsed,
           "sys_cpu": 100 * (after.ru_stime - before.ru_stime) / elapsed, "job_runtime": elapsed * 1000}
    job = {"jobname": workload, "error": 0, **counts, "read": idle, "write": idle, **cpu}
    job[direction] = figures
    json.dump({"jobs": [job]}, sys.stdout, indent=2)
    print()

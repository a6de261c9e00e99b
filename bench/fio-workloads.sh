# Sourced by bench/compare.sh and bench/kernel-client.sh: fio_workload NAME prints fio's options
# for the workload NAME (the request pattern only: the engine and the target are the caller's);
# returns 1 for a name that is not a fio workload.
fio_workload() {
  case "$1" in
    seqread) echo "--rw=read --bs=1M --iodepth=8" ;;
    seqwrite) echo "--rw=write --bs=1M --iodepth=8" ;;
    randread) echo "--rw=randread --bs=4k --iodepth=16" ;;
    randrw) echo "--rw=randrw --rwmixread=50 --bs=4k --iodepth=16" ;;
    randread64) echo "--rw=randread --bs=4k --iodepth=64" ;;
    randread1) echo "--rw=randread --bs=4k --iodepth=1" ;;
    randwrite) echo "--rw=randwrite --bs=4k --iodepth=16" ;;
    # Trims (the image is put back after each run, bench/compare.sh): 4 KiB at random, and a
    # trim then a write of each 64 KiB in turn (fio's trimwrite: what a file system reusing space does).
    randtrim) echo "--rw=randtrim --bs=4k --iodepth=16" ;;
    trimwrite) echo "--rw=trimwrite --bs=64k --iodepth=16" ;;
    # A database's commit: one 4 KiB write, then a flush, each waited for.
    syncwrite) echo "--rw=randwrite --bs=4k --iodepth=1 --fsync=1" ;;
    # Four connections at once (fio's nbd engine opens one per job), reported as one.
    seqread4c) echo "--rw=read --bs=1M --iodepth=8 --numjobs=4 --group_reporting" ;;
    seqwrite4c) echo "--rw=write --bs=1M --iodepth=8 --numjobs=4 --group_reporting" ;;
    randread4c) echo "--rw=randread --bs=4k --iodepth=16 --numjobs=4 --group_reporting" ;;
    randrw4c) echo "--rw=randrw --rwmixread=50 --bs=4k --iodepth=16 --numjobs=4 --group_reporting" ;;
    # A deeper queue of large writes: 32 MiB behind the one being written on each connection.
    seqwrite32) echo "--rw=write --bs=1M --iodepth=32" ;;
    seqwrite4c32) echo "--rw=write --bs=1M --iodepth=32 --numjobs=4 --group_reporting" ;;
    *) return 1 ;;
  esac
}

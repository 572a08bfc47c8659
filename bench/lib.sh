# bench/lib.sh — shared by the benchmark scripts (sourced).  Needs the
# caller's sql () on the benchmark's database.

# cpu_line NAME PID: "NAME seconds" (user + system CPU so far); nothing for
# a process gone meanwhile.  (bench/bench.sh has its own cpu ().)
cpu_line() {
  awk -v n="$1" -v t="$(getconf CLK_TCK)" '{printf "%s %.2f\n", n, ($14 + $15) / t}' "/proc/$2/stat" 2>/dev/null || true
}

# cpu_snap FILE [NAME PID]...: the CPU seconds so far of each PostgreSQL
# client backend on the database ("backend APPLICATION_NAME": a service's
# connections on lines of their own, for the reader to sum) and of each
# process named ("process NAME").  The caller's own psql polls come and
# go, and are not counted.  Taken before and after what is measured.
cpu_snap() {
  local file=$1
  shift
  {
    sql "SELECT pid || ' ' || coalesce (nullif (application_name, ''), 'unnamed') FROM pg_stat_activity
          WHERE datname = current_database () AND backend_type = 'client backend'
            AND pid <> pg_backend_pid ()" |
      while read -r pid name; do cpu_line "backend $name" "$pid"; done
    while [ $# -ge 2 ]; do
      cpu_line "process $1" "$2"
      shift 2
    done
  } >"$file"
}

#!/usr/bin/env python3
"""Runs dbt with a profile made from the step's FlexCore config file.

FlexCore hands a plugin its settings (secrets included) as one JSON file, $FLEXCORE_CONFIG_FILE,
never as environment variables. dbt reads connections from profiles.yml, so this writes one
for the PostgreSQL adapter into a private directory under /tmp and runs dbt with it:

    flexcore-dbt build            ->  dbt build --profiles-dir /tmp/... --profile flexcore ...

Settings: host, port (5432), user, password, dbname, schema, threads (4), project_dir
(/project), and sslmode (prefer). dbt's target/ and logs/ go to /tmp: the project may be read-only.
"""

import json
import os
import sys
import tempfile

DEFAULTS = {"port": 5432, "threads": 4, "project_dir": "/project", "sslmode": "prefer"}
REQUIRED = ("host", "user", "password", "dbname", "schema")


def main() -> int:
    path = os.environ.get("FLEXCORE_CONFIG_FILE")
    if not path:
        print("flexcore-dbt: FLEXCORE_CONFIG_FILE is not set", file=sys.stderr)
        return 2
    with open(path, encoding="utf-8") as f:
        config = {**DEFAULTS, **json.load(f)}
    missing = [k for k in REQUIRED if config.get(k) in (None, "")]
    if missing:
        print(f"flexcore-dbt: missing settings: {', '.join(missing)}", file=sys.stderr)
        return 2
    output = {
        "type": "postgres",
        **{k: config[k] for k in ("host", "user", "password", "dbname", "schema", "sslmode")},
        "port": int(config["port"]),
        "threads": int(config["threads"]),
    }
    profiles = tempfile.mkdtemp(prefix="flexcore-dbt-")
    # JSON is YAML: no YAML library needed, and values are quoted safely.
    with open(os.path.join(profiles, "profiles.yml"), "w", encoding="utf-8") as f:
        json.dump({"flexcore": {"target": "flexcore", "outputs": {"flexcore": output}}}, f)
    os.environ.setdefault("DBT_TARGET_PATH", "/tmp/dbt-target")
    os.environ.setdefault("DBT_LOG_PATH", "/tmp/dbt-logs")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    args = sys.argv[1:] or ["build"]
    common = ["--profiles-dir", profiles, "--profile", "flexcore", "--project-dir", str(config["project_dir"])]
    os.execvp("dbt", ["dbt", *args, *common])
    return 127


if __name__ == "__main__":
    sys.exit(main())

"""Rules both simulated API generations share: who may get a token, search, copying."""

from __future__ import annotations

from . import sandbox
from .plumbing import sim
from .state import EMAIL_RE, SimError


def authorize_user(caller, account_id, password) -> str:
    """Apply CoCalc's user_auth rules; return the account to issue a token for."""
    state = sim().state
    key = (caller.account_id, account_id)
    with state.lock:
        until = state.blocked.get(key, 0)
        if until > state.now().timestamp():
            raise SimError("too many attempts: wait a minute before trying again")
        account = state.accounts.get(account_id)
        if not password:
            if not caller.admin:
                raise SimError("password must be given unless you are an admin")
            if account is None:
                raise SimError("no such account")
            return account_id
        if account is None or account.password != password:
            state.blocked[key] = state.now().timestamp() + 60
            raise SimError("incorrect password")
        return account_id


def search_users(query: str, limit) -> list[dict]:
    """Exact e-mail items return that account with its address; names never reveal addresses."""
    state = sim().state
    limit = min(int(limit or 20), 50)
    results = []
    for item in (part.strip() for part in str(query).split(",")):
        if not item:
            continue
        if EMAIL_RE.match(item):
            account = state.by_email(item)
            if account:
                results.append(
                    {
                        "account_id": account.account_id,
                        "first_name": account.first_name,
                        "last_name": account.last_name,
                        "email_address": account.email_address,
                    }
                )
            continue
        words = item.lower().split()
        with state.lock:
            for account in state.accounts.values():
                if account.deleted:
                    continue
                names = (account.first_name.lower(), account.last_name.lower())
                if all(any(n.startswith(w) for n in names) for w in words):
                    results.append(
                        {
                            "account_id": account.account_id,
                            "first_name": account.first_name,
                            "last_name": account.last_name,
                        }
                    )
    return results[:limit]


def copy_files(caller, src_project_id, src_path, target_project_id, target_path) -> dict:
    """Copy a file or folder between projects the caller can reach; return the status record."""
    state = sim().state
    source = state.project_for(caller, src_project_id)
    target = state.project_for(caller, target_project_id)
    src_path = str(src_path).strip("/")
    target_path = str(target_path or src_path).strip("/")
    with state.lock:
        picked = {
            p: c
            for p, c in source.files.items()
            if p == src_path or not src_path or p.startswith(src_path + "/")
        }
        if not picked:
            raise SimError(f"No such file or directory: '{src_path}'")
        for path, content in picked.items():
            tail = path[len(src_path) :].lstrip("/") if src_path else path
            target.files["/".join(p for p in (target_path, tail) if p)] = content
    now = state.now().isoformat()
    return {
        "source_project_id": source.project_id,
        "source_path": src_path,
        "target_project_id": target.project_id,
        "target_path": target_path,
        "time": now,
        "started": now,
    }


def write_file(project, path, content) -> None:
    """Write a file as the project's user would (the caller holds the state's lock)."""
    path = str(path).strip("/")
    if path in project.read_only:
        raise SimError(f"EACCES: permission denied, open '{path}'")
    project.files[path] = str(content)


def _under(files, path: str) -> list[str]:
    """The files at ``path``: the file itself, or every file in the folder."""
    path = path.strip("/")
    return [f for f in files if f == path or f.startswith(path + "/")]


def exec_reply(project, body: dict) -> dict:
    """``project_exec`` as CoCalc answers it (``backend/execute-code.ts``): unless the call
    sets ``err_on_exit`` to false, a non-zero exit is an error, without the exit code."""
    out = run_command(
        project, body["command"], body.get("args"), body.get("path"), body.get("timeout")
    )
    if out["exit_code"] and body.get("err_on_exit", True) is not False:
        args = " ".join(str(a) for a in body.get("args") or [])
        raise SimError(
            f"command '{body['command']}' (args={args}) exited with nonzero code "
            f"{out['exit_code']} -- stderr='{out['stderr'][:1024]}'"
        )
    return out


def run_command(project, command, args=None, path=None, timeout=None) -> dict:
    """The few shell commands the simulator knows, with the output real tools give:
    ``ls`` lists the top of the home folder, ``find DIR -type f`` every file as ``./x``,
    ``test -e PATH`` whether a file or folder exists, ``chmod [-R] a-w PATH`` takes the
    write permission away."""
    words = str(command).split() + [str(a) for a in (args or [])]
    name, rest = (words[0], words[1:]) if words else ("", [])
    home = f"/projects/{project.project_id}"
    files = sorted(project.files)
    if name == "true":
        out = ("", "", 0)
    elif name == "echo":
        out = (" ".join(rest) + "\n", "", 0)
    elif name == "pwd":
        out = (home + ("/" + path if path else "") + "\n", "", 0)
    elif name == "ls":
        out = ("".join(n + "\n" for n in sorted({f.split("/", 1)[0] for f in files})), "", 0)
    elif name == "find":
        out = ("".join(f"./{f}\n" for f in files), "", 0)
    elif name == "test" and len(rest) == 2 and rest[0] == "-e":
        out = ("", "", 0 if _under(files, rest[1]) else 1)
    elif name == "chmod" and rest[-2:-1] == ["a-w"]:
        found = _under(files, rest[-1])
        project.read_only.update(found)
        no_such = f"chmod: cannot access '{rest[-1]}': No such file or directory\n"
        out = ("", "", 0) if found else ("", no_such, 1)
    elif sim().config.real_exec and sandbox.available():
        return _run_real(project, words, timeout, path)
    else:
        out = ("", f"bash: {name}: command not found\n", 127)
    return {"stdout": out[0], "stderr": out[1], "exit_code": out[2]}


def _run_real(project, words, timeout, path) -> dict:
    """A real program, in the project's sandbox (``sandbox``); the files it leaves are the
    project's afterwards, but for the read-only ones, which it cannot change."""
    state = sim().state
    with state.lock:
        files, read_only = dict(project.files), set(project.read_only)
    after, out, err, code = sandbox.run(
        project.project_id, files, read_only, words, timeout, str(path or "")
    )
    with state.lock:
        kept = {p: c for p, c in project.files.items() if p in read_only}
        project.files.clear()
        project.files.update({p: c for p, c in after.items() if p not in read_only})
        project.files.update(kept)
    return {"stdout": out, "stderr": err, "exit_code": code}


#: The site settings the simulator honours, with CoCalc's defaults.
SITE_SETTINGS = {"iframe_comm_hosts": "", "dns": "", "samesite_remember_me": "strict"}


def site_settings_query(caller, pattern) -> list | dict:
    """The ``site_settings`` user query (admins only): a list asks for the rows that were
    set (CoCalc keeps no row for a setting left at its default), an object sets one."""
    if not caller.admin:
        raise SimError("FATAL: you must be an admin to query site_settings")
    config = sim().config
    if isinstance(pattern, list):
        rows = []
        for name, default in SITE_SETTINGS.items():
            value = getattr(config, name)
            value = " ".join(value) if isinstance(value, list) else value
            if value != default:
                rows.append({"name": name, "value": value})
        return rows
    if not isinstance(pattern, dict) or pattern.get("name") not in SITE_SETTINGS:
        raise SimError(f"setting name='{(pattern or {}).get('name')}' not allowed")
    value = str(pattern.get("value") or "")
    if pattern["name"] == "iframe_comm_hosts":
        config.iframe_comm_hosts = value.split()
    elif pattern["name"] == "dns":
        config.dns = value
    else:
        config.samesite_remember_me = value or "strict"
    return {}

"""A network guard for test subprocesses: every attempt to reach another machine is logged and refused.

Put this folder first on ``PYTHONPATH`` and set ``RAADGIVER_NETGUARD_LOG`` to a file; Python imports
``sitecustomize`` at start-up, before any code of the program. Without the variable nothing happens.

Refused and logged (one line each, appended to the log):

* ``socket.socket.connect`` / ``connect_ex`` and ``socket.create_connection`` to an address that is not
  loopback (127.0.0.0/8, ::1, the name localhost) or unspecified (0.0.0.0, ::, which Linux connects to
  this machine); unix sockets are always allowed;
* ``socket.getaddrinfo`` of a name other than localhost: resolving it is a DNS query that tells the
  resolver which host the program wants. Literal IP addresses resolve without any traffic and pass;
  connecting to them is checked as above.

An audit hook catches the same operations on sockets the patches do not see (``_socket.socket`` made
by C code in Python, ``sendto``/``sendmsg`` such as UDP DNS, ``gethostbyname``/``gethostbyaddr``).
Sockets made by native code outside Python (chromadb's Rust core, libuv) are invisible to this
guard; the tests run the same commands in a network namespace without a network for those. uvloop is
one such library: it is hidden here, so that an asyncio server (uvicorn under gradio) runs on the
standard event loop, whose sockets the guard sees.

``RAADGIVER_NETGUARD_ARMED`` (optional) names a file that gets ``armed <pid>`` per guarded process, so a
test can tell that the guard was really in place when the log stayed empty.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import sys
import traceback
from typing import Any

_LOG = os.environ.get("RAADGIVER_NETGUARD_LOG")
_ARMED = os.environ.get("RAADGIVER_NETGUARD_ARMED")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_HERE = os.path.abspath(__file__)


def _append(path: str, line: str) -> None:
    # O_APPEND: several guarded processes (a server and its workers) may write at once.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8", "replace"))
    finally:
        os.close(fd)


def _is_local(host: Any) -> bool:
    if host is None:
        return True  # getaddrinfo(None, port): the local wildcard
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    name = str(host).strip().strip("[]").split("%", 1)[0].rstrip(".").lower()
    if name == "" or name in _LOCAL_NAMES or name == _own_hostname():
        return True
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return False  # a name: looking it up is a DNS query
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


def _is_literal(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    try:
        ipaddress.ip_address(str(host).strip("[]").split("%", 1)[0])
        return True
    except ValueError:
        return False


_hostname: str | None = None


def _own_hostname() -> str:
    # This machine's own name resolves from /etc/hosts; treating it as local avoids false alarms.
    global _hostname
    if _hostname is None:
        try:
            _hostname = socket.gethostname().lower()
        except OSError:
            _hostname = "localhost"
    return _hostname


def _caller() -> str:
    frames = [f for f in traceback.extract_stack()[:-3]
              if os.path.abspath(f.filename) != _HERE and not f.filename.endswith(("/socket.py", "/asyncio/base_events.py"))]
    return " < ".join(f"{os.path.basename(f.filename)}:{f.lineno}" for f in reversed(frames[-4:]))


def _refuse(kind: str, host: Any, port: Any) -> None:
    assert _LOG is not None
    _append(_LOG, f"{kind} {host!s} {port!s} pid={os.getpid()} argv={' '.join(sys.argv)[:120]!r} at {_caller()}\n")


def _inet_target(family: Any, address: Any) -> tuple[Any, Any] | None:
    """(host, port) of an internet address; None for unix and other local families."""
    if family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple) or not address:
        return None
    return address[0], address[1] if len(address) > 1 else None


def _install() -> None:
    assert _LOG is not None
    sys.modules.setdefault("uvloop", None)  # type: ignore[arg-type]  (import uvloop -> ImportError)

    orig_connect = socket.socket.connect
    orig_connect_ex = socket.socket.connect_ex
    orig_create_connection = socket.create_connection
    orig_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        target = _inet_target(self.family, address)
        if target is not None and not _is_local(target[0]):
            _refuse("connect", *target)
            raise OSError(errno.ENETUNREACH, f"netguard: no connection to {target[0]}")
        return orig_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        target = _inet_target(self.family, address)
        if target is not None and not _is_local(target[0]):
            _refuse("connect_ex", *target)
            return errno.ENETUNREACH
        return orig_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        host, port = address[0], address[1]
        if not _is_local(host):
            _refuse("create_connection", host, port)
            raise OSError(errno.ENETUNREACH, f"netguard: no connection to {host}")
        return orig_create_connection(address, *args, **kwargs)

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_local(host) and not _is_literal(host):
            _refuse("getaddrinfo", host, port)
            raise socket.gaierror(socket.EAI_NONAME, f"netguard: no DNS lookup of {host}")
        return orig_getaddrinfo(host, port, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.create_connection = create_connection
    socket.getaddrinfo = getaddrinfo

    watched = {"socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
               "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo"}

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event not in watched:
            return
        if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
            sock, address = args[0], args[1]
            if address is None:
                return  # sendmsg on a connected socket: its connect was checked
            target = _inet_target(getattr(sock, "family", None), address)
            if target is not None and not _is_local(target[0]):
                _refuse(event, *target)
                raise OSError(errno.ENETUNREACH, f"netguard: no traffic to {target[0]}")
        elif event == "socket.getaddrinfo":
            if not _is_local(args[0]) and not _is_literal(args[0]):
                _refuse(event, args[0], args[1])
                raise socket.gaierror(socket.EAI_NONAME, f"netguard: no DNS lookup of {args[0]}")
        elif event == "socket.getnameinfo":
            host = args[0][0] if args and isinstance(args[0], tuple) and args[0] else None
            if not _is_local(host):
                _refuse(event, host, None)
                raise socket.gaierror(socket.EAI_NONAME, "netguard: no reverse lookup")
        elif event == "socket.gethostbyname":
            if not _is_local(args[0]) and not _is_literal(args[0]):
                _refuse(event, args[0], None)
                raise socket.gaierror(socket.EAI_NONAME, f"netguard: no lookup of {args[0]}")
        else:  # gethostbyaddr(ip or name): a reverse lookup unless it is this machine
            if not _is_local(args[0]):
                _refuse(event, args[0], None)
                raise socket.gaierror(socket.EAI_NONAME, f"netguard: no lookup of {args[0]}")

    sys.addaudithook(hook)
    if _ARMED:
        _append(_ARMED, f"armed {os.getpid()}\n")


if _LOG:
    _install()

"""pgdrip's client hooks for Python: what the client knows of its own
connections, told to a wrapping pgdrip.

Loaded by sitecustomize.py in wrap mode.  An import hook patches
psycopg2 (connect, psycopg2.pool), psycopg 3 (Connection.connect and
close, sync and async), psycopg_pool (getconn/putconn, hence
connection()), asyncpg (every new connection, Connection.close and
terminate, Pool.acquire/release) and SQLAlchemy (the pool events of
every engine) when the program first imports them.  Each event is one
JSON line (pgdrip's client-hook protocol, version 1) on ONE unix stream
connection a process to $PGDRIP_HOOKS, opened at the first event:

  hello    once a connection: lang, argv (masked), libs
  open     a connection opened: lib, conn, backend, stack; pool when a
           pool opened it (one of its idle members)
  close    how: close (by the code), gc (collected while open), exit,
           server (asyncpg: ended by the server or the network)
  take     a pool checkout: conn, backend, pool, stack
  give     returned to its pool
  lost     a checked-out connection collected (or, asyncpg, ended and
           taken back by its pool) without being returned
  unhooked a library present that could not be hooked, and why

Guarantees: results, exceptions, return types and signatures of the
libraries are unchanged (functions are wrapped, never replaced by
subclasses, except psycopg2's C connection type, whose close() can only
be seen from a subclass); writes never block (a non-blocking socket and
a bounded buffer; what does not fit is dropped and counted); nothing is
written to stdout or stderr; no password, conninfo or DSN is sent; if
PGDRIP_HOOKS is unset or unreachable the hooks fall silent for good in
the process (a forked child tries once more).

pgdrip_pytest.py sets ``current_test``; otherwise PYTEST_CURRENT_TEST
names the test an event happened in.
"""
import contextvars
import os
import sys
import threading
import time

current_test = None

# The process id, kept anew in a forked child (os.register_at_fork):
# os.getpid() is a syscall, several an event.
_pid = [os.getpid()]

_VERSION = 1
_LINE_MAX = 16 * 1024
_BUFFER_MAX = 256 * 1024
_STACK_MAX = 20
_ARGV_MAX = 8
LIBS = ("psycopg2", "psycopg", "psycopg_pool", "asyncpg", "sqlalchemy")

# ---- the current test ----


# os.environ's own bytes dict (POSIX), which os.environ[...] = updates in
# place: a lookup there is a tenth of os.environ.get's, once an event.
_ENV = getattr(os.environ, "_data", None) if os.name == "posix" else None
if not isinstance(_ENV, dict):
    _ENV = None


def _test_name():
    if current_test is not None:
        return current_test
    if _ENV is not None:
        raw = _ENV.get(b"PYTEST_CURRENT_TEST")
        name = os.fsdecode(raw) if raw else None
    else:
        name = os.environ.get("PYTEST_CURRENT_TEST")
    if not name:
        return None
    # "tests/test_x.py::test_y (call)": the node id without its phase.
    cut = name.rfind(" (")
    return name[:cut] if cut > 0 and name.endswith(")") else name


def _clean(text):
    """A str that encodes as UTF-8: undecodable bytes as \\xNN text."""
    text = str(text)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode(
            "utf-8", "backslashreplace")


# ---- secrets in argv ----

_SECRET_WORDS = ("password", "passwd", "pwd", "secret", "token")


def _mask_arg(arg, after_flag):
    """One argument with no password, conninfo or DSN left in it."""
    arg = _clean(arg)
    low = arg.lower()
    if after_flag:
        return "***"
    if "://" in low and low.split("://", 1)[0].startswith("postgres"):
        return "***"
    if "=" in arg:
        key = low.lstrip("-").split("=", 1)[0].strip()
        if any(w in key for w in _SECRET_WORDS):
            return arg.split("=", 1)[0] + "=***"
        # A libpq conninfo: "host=... dbname=... password=...".
        if " " in arg.strip() or key in ("host", "hostaddr", "dbname",
                                         "user", "port", "service"):
            return "***"
    if "@" in arg and ":" in arg.split("@", 1)[0]:
        # user:password@host
        return "***"
    return arg


def _masked_argv():
    out = []
    flag = False
    for arg in list(getattr(sys, "argv", None) or [])[:_ARGV_MAX]:
        out.append(_mask_arg(arg, flag))
        low = str(arg).lower().lstrip("-")
        flag = (str(arg).startswith("-") and "=" not in low and
                any(w in low for w in _SECRET_WORDS))
    return out


# ---- the channel: one non-blocking connection a process ----


class _Channel:
    """The process's connection to $PGDRIP_HOOKS and its output buffer.

    States: None (not tried yet), "up", "dead" (fall silent for good).
    """

    def __init__(self):
        self.reset()

    def reset(self):
        self.lock = threading.Lock()
        self.owner = None
        self.sock = None
        self.state = None
        self.pid = _pid[0] = os.getpid()
        self.out = bytearray()
        self.dropped = 0
        self.later = []

    def _connect(self, t):
        path = os.environ.get("PGDRIP_HOOKS", "")
        if not path:
            self.state = "dead"
            return False
        import socket

        sock = None
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            # Non-blocking from the start: a listener whose backlog is
            # full fails the connect instead of stalling the client.
            sock.setblocking(False)
            sock.connect(path)
        except (OSError, ValueError):
            if sock is not None:
                sock.close()
            self.state = "dead"
            return False
        self.sock = sock
        self.flags = getattr(socket, "MSG_NOSIGNAL", 0)
        self.state = "up"
        hello = {"ev": "hello", "lang": "python", "argv": _masked_argv(),
                 "libs": sorted(_hooked)}
        self._queue(hello, t)
        return True

    def _queue(self, event, t):
        """Appends a whole line to the buffer, carrying the count of the
        lines dropped before it, or drops and counts it."""
        data = _line(event, t, self.dropped)
        if data is None or len(self.out) + len(data) > _BUFFER_MAX:
            self.dropped += 1
            return
        self.dropped = 0
        if not self.out and self.state == "up":
            # Nothing waiting: straight to the socket, the usual case.
            n = self._send(data)
            if n >= len(data):
                return
            data = data[n:]
        self.out += data

    def _send(self, data):
        """Bytes of data the socket took (all of them once it is dead:
        they are thrown away)."""
        while True:
            try:
                # MSG_NOSIGNAL: no SIGPIPE, whatever the program set.
                return self.sock.send(data, self.flags)
            except BlockingIOError:
                return 0
            except InterruptedError:
                continue
            except OSError:
                # pgdrip went away: silent for good.
                self.state = "dead"
                self.out = bytearray()
                self.sock.close()
                return len(data)

    def _flush(self):
        while self.out and self.state == "up":
            n = self._send(self.out)
            if n == 0:
                return
            del self.out[:n]

    def send(self, event, t, deferred):
        """Sends one event (a dict), now or, when the channel is busy in
        this very thread (a collector callback in the middle of a send),
        with the next one.  Never raises, never blocks on the socket."""
        if self.state == "dead":
            return
        me = threading.get_ident()
        if not self.lock.acquire(False):
            if deferred or self.owner == me:
                self.later.append((event, t))
                return
            self.lock.acquire()
        self.owner = me
        try:
            if self.state is None and not self._connect(t):
                return
            if self.out:
                self._flush()
            if self.later:
                pending, self.later = self.later, []
                for ev, et in pending:
                    self._queue(ev, et)
            self._queue(event, t)
        except Exception:
            pass
        finally:
            self.owner = None
            self.lock.release()


_encoder = []


def _make_encoder():
    """The JSON encoder, made once (json.dumps with options makes one a
    call): C's own when there is one."""
    import json
    import json.encoder as je

    if je.c_make_encoder is not None:
        c_enc = je.c_make_encoder(None, None, je.encode_basestring, None,
                                  ":", ",", False, False, True)
        return lambda rec: "".join(c_enc(rec, 0))
    return json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _encode(rec):
    if not _encoder:
        _encoder.append(_make_encoder())
    return (_encoder[0](rec) + "\n").encode("utf-8", "backslashreplace")


def _line(event, t, dropped):
    """One protocol line (bytes), at most _LINE_MAX: the stack is cut to
    fit, then long strings; None when nothing fits."""
    rec = {"v": _VERSION, "ev": event["ev"], "pid": _pid[0], "t": t}
    rec.update(event)
    if rec.get("test") is not None:
        rec["test"] = _clean(rec["test"])
    if dropped:
        rec["dropped"] = dropped
    data = _encode(rec)
    while len(data) > _LINE_MAX:
        stack = rec.get("stack")
        if stack:
            rec["stack"] = stack[:len(stack) // 2] if len(stack) > 1 else []
        elif any(isinstance(v, str) and len(v) > 256 for v in rec.values()):
            for k, v in rec.items():
                if isinstance(v, str) and len(v) > 256:
                    rec[k] = v[:256]
        else:
            return None
        data = _encode(rec)
    return data


_channel = _Channel()


def _emit(event, deferred=False):
    """Sends an event dict (ev and its fields); t is taken now."""
    if _channel.state == "dead":
        return
    try:
        t = time.time()
        test = _test_name()
        if test is not None:
            event["test"] = test
        _channel.send(event, t, deferred)
    except Exception:
        # Never raised into the program, nor printed by a finalizer or
        # atexit (even at interpreter shutdown).
        pass


# ---- the stack: frames in the user's code only ----

_files = {}
_files_cwd = [None, 0.0]
_skip_dirs = []
_CWD_EVERY_S = 1.0


def _skip_roots():
    import sysconfig

    roots = {os.path.dirname(os.path.abspath(__file__))}
    for key in ("stdlib", "platstdlib"):
        try:
            roots.add(os.path.realpath(sysconfig.get_paths()[key]))
            roots.add(sysconfig.get_paths()[key])
        except (KeyError, OSError):
            pass
    roots.add(os.path.dirname(os.__file__))
    return tuple(r.rstrip("/") + "/" for r in roots if r)


def _user_file(name):
    """The frame's file as shown (relative to the current directory when
    under it), or None when the frame is not the user's."""
    if not name or name.startswith("<") or \
            "/site-packages/" in name or "/dist-packages/" in name or \
            name.startswith(_skip_dirs[0]):
        return None
    if name.startswith("/"):
        cwd = _files_cwd[0]
        if cwd and name.startswith(cwd + "/"):
            return _clean(name[len(cwd) + 1:])
    return _clean(name)


def _stack(skip=2):
    """At most _STACK_MAX frames of the user's code, innermost first."""
    if not _skip_dirs:
        _skip_dirs.append(_skip_roots())
    now = time.monotonic()
    if now - _files_cwd[1] >= _CWD_EVERY_S:
        # The current directory, looked at once a second at most (a
        # syscall a checkout would be most of the cost).
        _files_cwd[1] = now
        try:
            cwd = os.getcwd()
        except OSError:
            cwd = None
        if cwd != _files_cwd[0]:
            _files.clear()
            _files_cwd[0] = cwd
    frames = []
    try:
        f = sys._getframe(skip)
    except ValueError:
        return frames
    files = _files
    glet = None
    while len(frames) < _STACK_MAX:
        if f is None:
            # In a greenlet (SQLAlchemy's asyncio bridge): the caller
            # waits in the parent greenlet.
            glet, f = _greenlet_parent(glet)
            if f is None:
                break
        code = f.f_code
        name = code.co_filename
        shown = files.get(name, False)
        if shown is False:
            shown = files[name] = _user_file(name)
        if shown is not None:
            frames.append({"file": shown, "line": f.f_lineno,
                           "func": code.co_name})
        f = f.f_back
    return frames


def _greenlet_parent(glet):
    """The parent greenlet of glet (of the current one when None) and
    the frame it waits in; (None, None) when there is none."""
    mod = sys.modules.get("greenlet")
    if mod is None:
        return None, None
    try:
        glet = (glet if glet is not None else mod.getcurrent()).parent
        if glet is None:
            return None, None
        return glet, glet.gr_frame
    except Exception:
        return None, None


# ---- connections and pools ----


class _Conn:
    __slots__ = ("cid", "backend", "closed", "pool", "fairy", "pid",
                 "lost_pool")

    def __init__(self, cid, backend):
        self.cid = cid
        self.backend = backend
        self.closed = False
        self.pool = None
        self.fairy = None
        self.pid = _pid[0]
        self.lost_pool = None


_conns = {}  # id(driver connection) -> _Conn, while it lives
_pools = {}  # id(pool) -> its id string, while it lives
_counter = [0]
_hooked = set()
_unhooked_said = set()


def _next():
    _counter[0] += 1
    return _counter[0]


def _backend_of(conn):
    """The backend pid the driver already knows (never a query)."""
    for getter in (lambda c: c.get_backend_pid(),
                   lambda c: c.info.backend_pid,
                   lambda c: c.get_server_pid()):
        try:
            pid = getter(conn)
        except Exception:
            continue
        if isinstance(pid, int) and pid > 0:
            return pid
    return None


def _gone(key, rec):
    """weakref.finalize: the driver connection was collected."""
    try:
        _conns.pop(key, None)
        if rec.pid != _pid[0]:
            return
        if rec.pool is not None:
            _emit({"ev": "lost", "conn": rec.cid, "backend": rec.backend,
                   "pool": rec.pool, "how": "gc"}, deferred=True)
            rec.pool = None
        if not rec.closed:
            rec.closed = True
            _emit({"ev": "close", "conn": rec.cid, "backend": rec.backend,
                   "how": "gc"}, deferred=True)
    except Exception:
        pass


# The pool opening a connection now, in this thread or task (psycopg2's
# and asyncpg's pools open their idle members in the caller's code): its
# open says so, and that member is none of the code's leaks.
_opening_pool = contextvars.ContextVar("pgdrip_opening_pool", default=None)


def _as_pool_member(pool, prefix, fn, *args):
    """fn(*args), the connections it opens said to be pool's."""
    token = _opening_pool.set(_pool_id(pool, prefix))
    try:
        return fn(*args)
    finally:
        _opening_pool.reset(token)


def _track(conn, lib, stack=None):
    """The record of a driver connection, made (and "open" sent) at the
    first sight of it."""
    rec = _conns.get(id(conn))
    if rec is not None:
        return rec
    import weakref

    rec = _Conn("%s#%d" % (lib, _next()), _backend_of(conn))
    try:
        fin = weakref.finalize(conn, _gone, id(conn), rec)
        fin.atexit = False
    except TypeError:
        pass
    _conns[id(conn)] = rec
    event = {"ev": "open", "lib": lib, "conn": rec.cid,
             "backend": rec.backend,
             "stack": stack if stack is not None else _stack(3)}
    pool = _opening_pool.get()
    if pool is not None:
        event["pool"] = pool
    _emit(event)
    return rec


def _opened(conn, lib, stack):
    try:
        _track(conn, lib, stack)
    except Exception:
        pass


def _closed(conn, how="close"):
    try:
        rec = _conns.get(id(conn))
        if rec is None or rec.closed or rec.pid != _pid[0]:
            return
        rec.closed = True
        _emit({"ev": "close", "conn": rec.cid, "backend": rec.backend,
               "how": how})
    except Exception:
        pass


def _pool_id(pool, prefix):
    key = id(pool)
    name = _pools.get(key)
    if name is None:
        import weakref

        name = "%s.%s#%d" % (prefix, type(pool).__name__, _next())
        _pools[key] = name
        try:
            weakref.finalize(pool, _pools.pop, key, None).atexit = False
        except TypeError:
            pass
    return name


def _take(conn, pool, prefix, lib, stack):
    try:
        rec = _track(conn, lib, stack)
        rec.pool = _pool_id(pool, prefix)
        _emit({"ev": "take", "conn": rec.cid, "backend": rec.backend,
               "pool": rec.pool, "stack": stack})
        return rec
    except Exception:
        return None


def _give_rec(rec, attr):
    """A give of rec's checkout, whose pool rec's attr names (cleared);
    nothing when it names none."""
    if rec is None or getattr(rec, attr) is None or rec.pid != _pid[0]:
        return
    pool = getattr(rec, attr)
    setattr(rec, attr, None)
    _emit({"ev": "give", "conn": rec.cid, "backend": rec.backend,
           "pool": pool})


def _give(conn):
    try:
        _give_rec(_conns.get(id(conn)), "pool")
    except Exception:
        pass


def _at_exit():
    """Connections still open when the interpreter ends."""
    try:
        me = _pid[0]
        for rec in list(_conns.values()):
            if not rec.closed and rec.pid == me:
                rec.closed = True
                _emit({"ev": "close", "conn": rec.cid,
                       "backend": rec.backend, "how": "exit"})
    except Exception:
        pass


def _unhooked(lib, why):
    if lib in _unhooked_said:
        return
    _unhooked_said.add(lib)
    _emit({"ev": "unhooked", "lib": lib, "why": _clean(why)[:200]})


# ---- the libraries ----


def _wraps(orig, fn):
    import functools

    return functools.wraps(orig)(fn)


def _patch_psycopg2(mod):
    ext = mod.extensions
    base_type = ext.connection
    classes = {}

    def hooked_class(base):
        """A subclass whose close() is seen (C types take no patches)."""
        cls = classes.get(base)
        if cls is None:
            def close(self):
                was_open = not self.closed
                try:
                    return base.close(self)
                finally:
                    if was_open:
                        _closed(self)

            cls = type(base.__name__, (base,),
                       {"__slots__": (), "close": close,
                        "__module__": base.__module__,
                        "__qualname__": base.__qualname__,
                        "__doc__": base.__doc__})
            classes[base] = cls
        return cls

    orig = mod.connect

    def connect(*args, **kwargs):
        stack = _stack()
        try:
            if len(args) >= 2:
                factory = args[1]
            else:
                factory = kwargs.get("connection_factory")
            if factory is None or (isinstance(factory, type) and
                                   issubclass(factory, base_type)):
                sub = hooked_class(factory or base_type)
                if len(args) >= 2:
                    args = args[:1] + (sub,) + args[2:]
                else:
                    kwargs["connection_factory"] = sub
        except Exception:
            pass
        conn = orig(*args, **kwargs)
        _opened(conn, "psycopg2", stack)
        return conn

    mod.connect = _wraps(orig, connect)


def _patch_psycopg2_pool(mod):
    cls = mod.AbstractConnectionPool
    orig_get = cls._getconn
    orig_put = cls._putconn
    orig_connect = cls._connect

    def _connect(self, key=None):
        return _as_pool_member(self, "psycopg2.pool", orig_connect, self,
                               key)

    def _getconn(self, key=None):
        known = key is not None and key in getattr(self, "_used", {})
        stack = None if known else _stack()
        conn = orig_get(self, key)
        if not known:
            _take(conn, self, "psycopg2.pool", "psycopg2", stack)
        return conn

    def _putconn(self, conn, key=None, close=False):
        if not self.closed and (key is not None or
                                id(conn) in getattr(self, "_rused", {})):
            _give(conn)
        return orig_put(self, conn, key, close)

    cls._getconn = _wraps(orig_get, _getconn)
    cls._putconn = _wraps(orig_put, _putconn)
    cls._connect = _wraps(orig_connect, _connect)
    # SimpleConnectionPool's getconn and putconn are these very functions
    # (class attributes bound at its definition).
    for sub in (mod.SimpleConnectionPool,):
        if sub.__dict__.get("getconn") is orig_get:
            sub.getconn = cls._getconn
        if sub.__dict__.get("putconn") is orig_put:
            sub.putconn = cls._putconn


def _patch_psycopg(mod):
    sync_cls = mod.Connection
    async_cls = mod.AsyncConnection
    orig_connect = sync_cls.__dict__["connect"].__func__
    orig_aconnect = async_cls.__dict__["connect"].__func__
    orig_close = sync_cls.close
    orig_aclose = async_cls.close

    def connect(cls, *args, **kwargs):
        stack = _stack()
        conn = orig_connect(cls, *args, **kwargs)
        _opened(conn, "psycopg", stack)
        return conn

    async def aconnect(cls, *args, **kwargs):
        stack = _stack()
        conn = await orig_aconnect(cls, *args, **kwargs)
        _opened(conn, "psycopg", stack)
        return conn

    def close(self):
        was_open = not self.closed
        try:
            return orig_close(self)
        finally:
            if was_open:
                _closed(self)

    async def aclose(self):
        was_open = not self.closed
        try:
            return await orig_aclose(self)
        finally:
            if was_open:
                _closed(self)

    sync_cls.connect = classmethod(_wraps(orig_connect, connect))
    async_cls.connect = classmethod(_wraps(orig_aconnect, aconnect))
    sync_cls.close = _wraps(orig_close, close)
    async_cls.close = _wraps(orig_aclose, aclose)
    mod.connect = sync_cls.connect


def _pool_methods(orig_get, orig_put, is_async):
    """psycopg_pool's getconn and putconn, wrapped (no parameter added)."""
    if is_async:
        async def getconn(self, timeout=None):
            stack = _stack()
            conn = await orig_get(self, timeout=timeout)
            _take(conn, self, "psycopg_pool", "psycopg", stack)
            return conn

        async def putconn(self, conn):
            _give(conn)
            return await orig_put(self, conn)
    else:
        def getconn(self, timeout=None):
            stack = _stack()
            conn = orig_get(self, timeout=timeout)
            _take(conn, self, "psycopg_pool", "psycopg", stack)
            return conn

        def putconn(self, conn):
            _give(conn)
            return orig_put(self, conn)
    return _wraps(orig_get, getconn), _wraps(orig_put, putconn)


def _patch_psycopg_pool(mod):
    for cls, is_async in ((mod.ConnectionPool, False),
                          (getattr(mod, "AsyncConnectionPool", None), True)):
        if cls is not None:
            cls.getconn, cls.putconn = _pool_methods(cls.getconn,
                                                     cls.putconn, is_async)


_closing = set()  # id() of asyncpg connections the code is closing
# id() of an asyncpg pool's proxy -> the record of its checkout, until
# the code releases it (a proxy takes no weak reference).
_proxies = {}


def _released(proxy):
    """The code releases an asyncpg proxy: a checkout lost meanwhile (its
    connection ended and its pool took it back) was given back after
    all."""
    try:
        _give_rec(_proxies.pop(id(proxy), None), "lost_pool")
    except Exception:
        pass


def _ended(conn, how):
    """An asyncpg connection ending (how: "close" by the code, "server"
    by the server or the network): a checkout still out is lost (its
    pool takes it back itself); one the code did not close is closed."""
    rec = _conns.get(id(conn))
    if rec is None or rec.pid != _pid[0]:
        return
    if rec.pool is not None:
        pool, rec.pool = rec.pool, None
        rec.lost_pool = pool
        _emit({"ev": "lost", "conn": rec.cid, "backend": rec.backend,
               "pool": pool, "how": how})
    if how == "server":
        _closed(conn, how)


def _patch_asyncpg(mod):
    cu = mod.connect_utils
    orig_addr = cu._connect_addr
    conn_cls = mod.connection.Connection
    orig_close = conn_cls.close
    orig_term = conn_cls.terminate
    orig_cleanup = conn_cls._cleanup
    pool_cls = mod.pool.Pool
    orig_acquire = pool_cls._acquire
    orig_release = pool_cls.release
    orig_new = pool_cls._get_new_connection

    async def _get_new_connection(self):
        token = _opening_pool.set(_pool_id(self, "asyncpg"))
        try:
            return await orig_new(self)
        finally:
            _opening_pool.reset(token)

    async def _connect_addr(*args, **kwargs):
        stack = _stack()
        conn = await orig_addr(*args, **kwargs)
        _opened(conn, "asyncpg", stack)
        return conn

    async def close(self, *args, **kwargs):
        was_open = not self.is_closed()
        _closing.add(id(self))
        try:
            return await orig_close(self, *args, **kwargs)
        finally:
            _closing.discard(id(self))
            if was_open:
                _closed(self)

    def terminate(self):
        was_open = not self.is_closed()
        _closing.add(id(self))
        try:
            return orig_term(self)
        finally:
            _closing.discard(id(self))
            if was_open:
                _closed(self)

    def _cleanup(self):
        # Every end of a connection comes here: close(), terminate(),
        # and the server or the network ending it.  A pool's connection
        # ended while checked out is taken back by its pool, never
        # released by the code: lost.
        try:
            _ended(self, "close" if id(self) in _closing else "server")
        except Exception:
            pass
        return orig_cleanup(self)

    async def _acquire(self, timeout):
        stack = _stack()
        proxy = await orig_acquire(self, timeout)
        raw = getattr(proxy, "_con", None)
        if raw is not None:
            rec = _take(raw, self, "asyncpg", "asyncpg", stack)
            if rec is not None:
                _proxies[id(proxy)] = rec
        return proxy

    async def release(self, connection, *args, **kwargs):
        raw = getattr(connection, "_con", None)
        if raw is not None:
            _give(raw)
        _released(connection)
        return await orig_release(self, connection, *args, **kwargs)

    cu._connect_addr = _wraps(orig_addr, _connect_addr)
    conn_cls.close = _wraps(orig_close, close)
    conn_cls.terminate = _wraps(orig_term, terminate)
    conn_cls._cleanup = _wraps(orig_cleanup, _cleanup)
    pool_cls._acquire = _wraps(orig_acquire, _acquire)
    pool_cls.release = _wraps(orig_release, release)
    pool_cls._get_new_connection = _wraps(orig_new, _get_new_connection)


def _sa_driver(dbapi_conn):
    drv = getattr(dbapi_conn, "driver_connection", None)
    return drv if drv is not None else dbapi_conn


def _sa_record(dbapi_conn, pool):
    """The record of the driver connection under SQLAlchemy's, made at
    the first sight when the driver's own hooks did not see it; None
    for another database than PostgreSQL, or a driver that does not say
    its backend pid (then named once as unhooked)."""
    drv = _sa_driver(dbapi_conn)
    rec = _conns.get(id(drv))
    if rec is not None:
        return rec
    if _backend_of(drv) is None:
        dialect = getattr(getattr(pool, "_dialect", None), "name", "")
        if str(dialect).startswith("postgres"):
            _unhooked("sqlalchemy", "driver %s: no backend pid" %
                      type(drv).__module__.split(".")[0])
        return None
    return _track(drv, "sqlalchemy", _stack(3))


def _sa_lost_or_give(dbapi_conn):
    rec = _conns.get(id(_sa_driver(dbapi_conn)))
    if rec is None or rec.pool is None:
        return
    fairy = rec.fairy
    rec.fairy = None
    if fairy is not None and fairy() is None:
        # SQLAlchemy returns a collected checkout to its pool itself.
        pool, rec.pool = rec.pool, None
        _emit({"ev": "lost", "conn": rec.cid, "backend": rec.backend,
               "pool": pool, "how": "gc"}, deferred=True)
    else:
        _give(_sa_driver(dbapi_conn))


def _patch_sqlalchemy(mod):
    import weakref

    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    def on_connect(dbapi_conn, record):
        try:
            _sa_record(dbapi_conn,
                       getattr(record, "_ConnectionRecord__pool", None))
        except Exception:
            pass

    def on_checkout(dbapi_conn, record, fairy):
        try:
            stack = _stack()
            pool = getattr(fairy, "_pool", None)
            rec = _sa_record(dbapi_conn, pool)
            if rec is None:
                return
            _take(_sa_driver(dbapi_conn), pool if pool is not None else fairy,
                  "sqlalchemy", "sqlalchemy", stack)
            rec.fairy = weakref.ref(fairy)
        except Exception:
            pass

    def on_checkin(dbapi_conn, record):
        try:
            if dbapi_conn is not None:
                _sa_lost_or_give(dbapi_conn)
        except Exception:
            pass

    def on_close(dbapi_conn, record=None):
        try:
            _sa_lost_or_give(dbapi_conn)
            _closed(_sa_driver(dbapi_conn))
        except Exception:
            pass

    event.listen(Pool, "connect", on_connect)
    event.listen(Pool, "checkout", on_checkout)
    event.listen(Pool, "checkin", on_checkin)
    event.listen(Pool, "close", on_close)
    event.listen(Pool, "close_detached", on_close)


_PATCHES = {
    "psycopg2": ("psycopg2", _patch_psycopg2),
    "psycopg2.pool": ("psycopg2", _patch_psycopg2_pool),
    "psycopg": ("psycopg", _patch_psycopg),
    "psycopg_pool": ("psycopg_pool", _patch_psycopg_pool),
    "asyncpg": ("asyncpg", _patch_asyncpg),
    "sqlalchemy": ("sqlalchemy", _patch_sqlalchemy),
}


def _patch(name, module):
    lib, fn = _PATCHES[name]
    try:
        fn(module)
        _hooked.add(lib)
    except Exception as exc:
        version = getattr(module, "__version__", "?")
        _unhooked(lib, "%s %s: %s: %s" % (lib, str(version).split()[0],
                                          type(exc).__name__, exc))


# ---- the import hook ----


class _Loader:
    """Runs the real loader, then patches the module it made."""

    def __init__(self, name, real):
        self.name = name
        self.real = real

    def create_module(self, spec):
        create = getattr(self.real, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module):
        # The module keeps its own loader, as if pgdrip were not there.
        module.__loader__ = self.real
        if getattr(module, "__spec__", None) is not None:
            module.__spec__.loader = self.real
        self.real.exec_module(module)
        _patch(self.name, module)

    def __getattr__(self, attr):
        return getattr(self.real, attr)


class _Finder:
    """A sys.meta_path finder that only looks at the watched names."""

    def find_spec(self, name, path=None, target=None):
        if name not in _PATCHES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and \
                        hasattr(spec.loader, "exec_module"):
                    spec.loader = _Loader(name, spec.loader)
                return spec
        return None

    def invalidate_caches(self):
        pass


_installed = [False]


def _after_fork():
    _channel.reset()
    for rec in _conns.values():
        # The parent's connections are the parent's to report.
        rec.closed = True
        rec.pool = None


def install():
    """Installs the import hook once; patches what is imported already."""
    if _installed[0]:
        return
    _installed[0] = True
    import atexit

    atexit.register(_at_exit)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork)
    sys.meta_path.insert(0, _Finder())
    for name in _PATCHES:
        if name in sys.modules:
            _patch(name, sys.modules[name])

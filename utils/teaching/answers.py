"""Learners' answers as data: read from the kernel after it ran, graded in a clean process (issue #15).

The gradebook never trusts what a learner's kernel *displays*, nor the grader functions that
live in it (a learner can patch them). Instead, once the notebook has run, the kernel is asked
for the values the grader registry names (:attr:`utils.teaching.registry.Exercise.answer_names`)
in a data-only form, and the graders run in the grading worker, a process the learner's code
never shares:

- :func:`export` (run *in the kernel*, by the gradebook) writes ``answers/NNNN.json``: JSON
  with tagged values: numbers, strings, ``Decimal``, containers, dates; DataFrames and Series
  as Parquet (base64), arrays as ``.npy`` without pickle; dataclasses by field; a **function as
  its source text** plus what it uses from the notebook (imports, data, helper functions'
  source). Nothing is pickled, nothing from the kernel is ever executed outside a sandbox.
- :func:`read_answers` (trusted side) reads those files (no symlinks, size-capped) and
  :func:`decode` rebuilds plain values; functions stay :class:`FunctionDefinition` data.
- A grader that must *call* a learner's function gets a :class:`LearnerFunction`: each call
  is sent to ``python -m utils.teaching.answers serve``, started in the job's sandbox (see
  :mod:`utils.teaching.sandbox`), which rebuilds the function from its source, calls it and
  sends the result back as data. A learner's code there can only change its own result.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import dataclasses
import datetime as dt
import hashlib
import importlib
import inspect
import io
import json
import os
import select
import stat
import subprocess
import sys
import textwrap
import time
import traceback
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 32
MAX_FUNCTIONS = 25
MAX_DEPENDENCY_BYTES = 8 * 1024 * 1024
CALL_TIMEOUT_S = 30.0
START_TIMEOUT_S = 60.0


# --- what the trusted side gets instead of a value -------------------------------------------


@dataclass(frozen=True)
class Missing:
    """The name was not defined in the kernel when the answers were read."""


@dataclass(frozen=True)
class Unreadable:
    """The value could not be turned into data (an open connection, a generator...)."""

    type_name: str
    reason: str = ""


@dataclass(frozen=True)
class FunctionDefinition:
    """A learner's function as data: its source and what it needs from the notebook.

    ``data`` is the decoded-but-not-executed JSON tree written by :func:`export`.
    """

    name: str
    data: Mapping[str, Any]

    @property
    def imported_from(self) -> str | None:
        """``module.qualname`` when the value was a library function, not one the learner wrote."""
        target = self.data.get("import")
        return ".".join(target) if isinstance(target, list) else None


# --- the codec ---------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("expected base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)


def encode(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-able data (tagged dicts for what JSON lacks). Raises TypeError if impossible."""
    if depth > MAX_DEPTH:
        raise TypeError("nested too deeply")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, bytes | bytearray):
        return {"$": "bytes", "v": _b64(bytes(value))}
    if isinstance(value, int):
        return value if abs(value) < 2**63 else {"$": "int", "v": str(value)}
    if isinstance(value, float):
        return value
    if isinstance(value, Decimal):
        return {"$": "decimal", "v": str(value)}
    np = sys.modules.get("numpy")
    pd = sys.modules.get("pandas")
    if pd is not None:
        if value is pd.NaT:
            return {"$": "nat"}
        if isinstance(value, pd.DataFrame):
            return _encode_frame(value, depth)
        if isinstance(value, pd.Series):
            return {"$": "series", "name": encode(value.name, depth + 1),
                    "frame": _encode_frame(value.to_frame(name="v"), depth)}
        if isinstance(value, pd.Index):
            return {"$": "list", "v": [encode(v, depth + 1) for v in value.tolist()]}
        if isinstance(value, pd.Timedelta):
            return {"$": "timedelta", "v": value.total_seconds()}
        if isinstance(value, pd.api.extensions.ExtensionArray):
            return encode(pd.Series(value), depth)
    if isinstance(value, dt.datetime):
        return {"$": "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$": "date", "v": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$": "time", "v": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$": "timedelta", "v": value.total_seconds()}
    if np is not None:
        if isinstance(value, np.datetime64):
            return {"$": "datetime", "v": str(value)} if not np.isnat(value) else {"$": "nat"}
        if isinstance(value, np.generic):
            return encode(value.item(), depth + 1)
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                return {"$": "array", "v": [encode(v, depth + 1) for v in value.tolist()]}
            buffer = io.BytesIO()
            np.save(buffer, value, allow_pickle=False)
            return {"$": "ndarray", "npy": _b64(buffer.getvalue())}
    if isinstance(value, list | tuple | set | frozenset):
        kind = {list: "list", tuple: "tuple"}.get(type(value), "set")
        items = sorted(value, key=repr) if kind == "set" else value
        return {"$": kind, "v": [encode(v, depth + 1) for v in items]}
    if isinstance(value, dict):
        return {"$": "dict", "v": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        kind = type(value)
        return {"$": "dataclass", "type": f"{kind.__module__}.{kind.__qualname__}",
                "fields": {f.name: encode(getattr(value, f.name), depth + 1)
                           for f in dataclasses.fields(value)}}
    raise TypeError(f"a {type(value).__module__}.{type(value).__qualname__} cannot be turned into data")


def _encode_frame(frame: Any, depth: int) -> dict[str, Any]:
    names = [encode(c, depth + 1) for c in frame.columns]
    renamed = frame.copy(deep=False)
    renamed.columns = [f"c{i}" for i in range(len(frame.columns))]
    try:
        buffer = io.BytesIO()
        renamed.to_parquet(buffer, index=True)
        return {"$": "dataframe", "columns": names, "parquet": _b64(buffer.getvalue())}
    except Exception:  # mixed types pyarrow refuses: column by column, value by value
        return {"$": "dataframe", "columns": names, "index": encode(list(frame.index), depth + 1),
                "data": [encode(list(frame.iloc[:, i]), depth + 1) for i in range(frame.shape[1])]}


def decode(data: Any, depth: int = 0) -> Any:
    """Rebuild a value from :func:`encode`'s data (trusted side: builds data only, runs nothing)."""
    if depth > MAX_DEPTH:
        raise ValueError("nested too deeply")
    if data is None or isinstance(data, bool | int | float | str):
        return data
    if isinstance(data, list):  # only inside tagged containers
        return [decode(v, depth + 1) for v in data]
    if not isinstance(data, dict) or not isinstance(data.get("$"), str):
        raise ValueError(f"not an encoded value: {type(data).__name__}")
    tag = data["$"]
    if tag == "missing":
        return Missing()
    if tag == "unreadable":
        return Unreadable(str(data.get("type", "?"))[:200], str(data.get("reason", ""))[:300])
    if tag == "function":
        return FunctionDefinition(str(data.get("name", "?"))[:100], data)
    if tag == "int":
        return int(str(data["v"]))
    if tag == "decimal":
        return Decimal(str(data["v"]))
    if tag == "bytes":
        return _unb64(data["v"])
    if tag in ("list", "tuple", "set", "array"):
        items = [decode(v, depth + 1) for v in _items(data)]
        if tag == "tuple":
            return tuple(items)
        if tag == "set":
            return set(items)
        if tag == "array":
            import numpy as np

            return np.array(items, dtype=object)
        return items
    if tag == "dict":
        return {_hashable(decode(k, depth + 1)): decode(v, depth + 1) for k, v in _items(data)}
    if tag in ("datetime", "date", "time", "timedelta", "nat"):
        return _decode_time(tag, data)
    if tag == "ndarray":
        import numpy as np

        return np.load(io.BytesIO(_unb64(data["npy"])), allow_pickle=False)
    if tag == "dataframe":
        return _decode_frame(data, depth)
    if tag == "series":
        frame = _decode_frame(data["frame"], depth)
        series = frame.iloc[:, 0]
        series.name = _hashable(decode(data.get("name"), depth + 1))
        return series
    if tag == "dataclass":
        return _decode_dataclass(data, depth)
    raise ValueError(f"unknown value tag {tag!r}")


def _items(data: Mapping[str, Any]) -> list[Any]:
    items = data.get("v")
    if not isinstance(items, list):
        raise ValueError("a container without items")
    return items


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, set):
        return frozenset(value)
    return value


def _decode_time(tag: str, data: Mapping[str, Any]) -> Any:
    import pandas as pd

    if tag == "nat":
        return pd.NaT
    text = str(data["v"])
    if tag == "datetime":
        return pd.Timestamp(text)
    if tag == "date":
        return dt.date.fromisoformat(text)
    if tag == "time":
        return dt.time.fromisoformat(text)
    return dt.timedelta(seconds=float(data["v"]))


def _decode_frame(data: Mapping[str, Any], depth: int) -> Any:
    import pandas as pd

    names = [_hashable(decode(c, depth + 1)) for c in data.get("columns", [])]
    if "parquet" in data:
        import pyarrow.parquet as pq

        frame = pq.read_table(io.BytesIO(_unb64(data["parquet"]))).to_pandas()
        if list(frame.columns) != [f"c{i}" for i in range(len(names))]:
            raise ValueError("a table whose columns do not match its names")
    else:
        columns = [decode(c, depth + 1) for c in data.get("data", [])]
        index = decode(data.get("index"), depth + 1)
        frame = pd.DataFrame({f"c{i}": col for i, col in enumerate(columns)}, index=index)
    frame.columns = names if names else frame.columns
    return frame


# Dataclasses a grader may receive as an argument or a learner's function may return: only the
# course's own (their constructors are ours).
_DATACLASS_MODULES = ("utils.",)


def _decode_dataclass(data: Mapping[str, Any], depth: int) -> Any:
    path = str(data.get("type", ""))
    module_name, _, qualname = path.rpartition(".")
    if not module_name.startswith(_DATACLASS_MODULES):
        raise ValueError(f"a {path} cannot be rebuilt here")
    kind = getattr(importlib.import_module(module_name), qualname, None)
    if not (isinstance(kind, type) and dataclasses.is_dataclass(kind)):
        raise ValueError(f"{path} is not a dataclass")
    fields = data.get("fields", {})
    init = {f.name: decode(fields[f.name], depth + 1) for f in dataclasses.fields(kind) if f.name in fields}
    return kind(**init)


# --- functions (kernel side: describe; sandbox side: rebuild) ----------------------------------


def _code_objects(code: types.CodeType) -> Iterable[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def fingerprint(code: types.CodeType) -> str:
    """What finds a function's code again in its recompiled source, whatever line it starts on.

    Not the bytecode: the compiler emits different instructions for the same source when a name
    was imported in the same cell. Names, arguments and constants are what tells functions apart.
    """
    digest = hashlib.sha256()
    for part in (code.co_name, code.co_argcount, code.co_kwonlyargcount, code.co_names, code.co_varnames,
                 code.co_freevars):
        digest.update(repr(part).encode())
    for const in code.co_consts:
        part = fingerprint(const) if isinstance(const, types.CodeType) else repr(const)
        digest.update(part.encode())
    return digest.hexdigest()


def _global_names(code: types.CodeType) -> set[str]:
    return {name for c in _code_objects(code) for name in c.co_names}


def _importable_as(value: Any) -> list[str] | None:
    """``[module, qualname]`` when ``value`` is what that import gives (library code, not the learner's)."""
    module = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        return None
    if module == "__main__" or "<" in qualname:
        return None
    target: Any = sys.modules.get(module)
    for part in qualname.split("."):
        target = getattr(target, part, None)
    return [module, qualname] if target is value else None


def _future_flags() -> int:
    import __future__

    return sum(getattr(__future__, name).compiler_flag for name in __future__.all_feature_names)


def _describe_function(fn: types.FunctionType) -> dict[str, Any]:
    source = textwrap.dedent(inspect.getsource(fn))
    described: dict[str, Any] = {"$": "function", "name": fn.__name__, "source": source,
                                 "fingerprint": fingerprint(fn.__code__),
                                 "future": fn.__code__.co_flags & _future_flags(),
                                 "defaults": encode(fn.__defaults__), "kwdefaults": encode(fn.__kwdefaults__)}
    if fn.__closure__:
        described["closure"] = [encode(cell.cell_contents) for cell in fn.__closure__]
    return described


def _encode_function(fn: Any, namespace: Mapping[str, Any]) -> dict[str, Any]:
    """A function and, flat, every global it (or the helpers it calls) uses from the notebook."""
    if not isinstance(fn, types.FunctionType):
        raise TypeError(f"a {type(fn).__name__} is not a plain function (write it with def or lambda)")
    imported = _importable_as(fn)
    if imported:
        return {"$": "function", "name": fn.__name__, "import": imported}
    described = _describe_function(fn)
    dependencies: dict[str, Any] = {}
    pending = [fn]
    seen = {id(fn)}
    while pending:
        for name in sorted(_global_names(pending.pop().__code__)):
            if name in dependencies or name not in namespace or hasattr(builtins, name):
                continue
            value = namespace[name]
            if isinstance(value, types.ModuleType):
                dependencies[name] = {"$": "module", "name": value.__name__}
            elif (imported := _importable_as(value)) is not None:
                dependencies[name] = {"$": "import", "v": imported}
            elif isinstance(value, types.FunctionType):
                if id(value) in seen or len(seen) >= MAX_FUNCTIONS:
                    continue
                seen.add(id(value))
                with contextlib.suppress(OSError, TypeError):
                    dependencies[name] = _describe_function(value)
                    pending.append(value)
            else:
                with contextlib.suppress(Exception):
                    encoded = encode(value)
                    if len(json.dumps(encoded)) <= MAX_DEPENDENCY_BYTES:
                        dependencies[name] = encoded
    described["globals"] = dependencies
    return described


def _find_code(module_code: types.CodeType, name: str, wanted: str) -> types.CodeType | None:
    for code in _code_objects(module_code):
        if code.co_name == name and fingerprint(code) == wanted:
            return code
    return None


def build_function(definition: Mapping[str, Any]) -> Any:
    """Rebuild a learner's function from :func:`export`'s description (run only in the sandbox)."""
    if "import" in definition:
        module, qualname = definition["import"]
        target: Any = importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
        return target
    namespace: dict[str, Any] = {"__builtins__": builtins, "__name__": "__main__"}
    for name, dependency in definition.get("globals", {}).items():
        tag = dependency.get("$") if isinstance(dependency, dict) else None
        with contextlib.suppress(Exception):  # a missing library: NameError when (if) it is used
            if tag == "module":
                namespace[name] = importlib.import_module(dependency["name"])
            elif tag == "import":
                target = importlib.import_module(dependency["v"][0])
                for part in dependency["v"][1].split("."):
                    target = getattr(target, part)
                namespace[name] = target
            elif tag == "function":
                namespace[name] = _function_from(dependency, namespace)
            else:
                namespace[name] = decode(dependency)
    return _function_from(definition, namespace)


def _function_from(described: Mapping[str, Any], namespace: dict[str, Any]) -> types.FunctionType:
    # Compiled as the notebook compiled it (``from __future__`` imports change the bytecode).
    flags = int(described.get("future", 0)) & _future_flags()
    module_code = compile(described["source"], "<learner answer>", "exec", flags=flags, dont_inherit=True)
    code = _find_code(module_code, described["name"], described["fingerprint"])
    if code is None:
        raise ValueError(f"the source of {described['name']} does not define it")
    closure = None
    if described.get("closure"):
        closure = tuple(types.CellType(decode(value)) for value in described["closure"])
    defaults = decode(described.get("defaults"))
    function = types.FunctionType(code, namespace, described["name"], defaults, closure)
    function.__kwdefaults__ = decode(described.get("kwdefaults"))
    return function


# --- the kernel side ---------------------------------------------------------------------------


def _user_namespace() -> dict[str, Any]:
    with contextlib.suppress(Exception):
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            return shell.user_ns
    return vars(sys.modules["__main__"])


def export(names: Sequence[str], path: str, namespace: Mapping[str, Any] | None = None) -> None:
    """Write the answers ``names`` of the notebook to ``path`` (JSON; run in the learner's kernel)."""
    namespace = _user_namespace() if namespace is None else namespace
    answers: dict[str, Any] = {}
    for name in names:
        if name not in namespace:
            answers[name] = {"$": "missing"}
            continue
        value = namespace[name]
        try:
            is_code = callable(value) and not isinstance(value, type)
            answers[name] = _encode_function(value, namespace) if is_code else encode(value)
        except Exception as error:
            answers[name] = {"$": "unreadable", "type": type(value).__name__, "reason": str(error)[:300]}
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(answers, handle)
    os.replace(temporary, path)


def extraction_code(names: Sequence[str], path: str) -> str:
    """The code the gradebook runs in the kernel to :func:`export` ``names`` to ``path``."""
    return f"__import__('utils.teaching.answers', fromlist=['export']).export({list(names)!r}, {path!r})"


# --- the trusted side ----------------------------------------------------------------------------


def read_file(folder: Path, name: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read ``folder/name`` written by learner code: a regular file, no symlink anywhere, capped."""
    directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=directory)
    finally:
        os.close(directory)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{name} is not a regular file")
        if info.st_size > limit:
            raise ValueError(f"{name} is {info.st_size // 2**20} MB, over the {limit // 2**20} MB limit")
        return handle.read(limit + 1)[:limit]


def read_answers(folder: Path, names: Iterable[str], raw: dict[str, Any] | None = None
                 ) -> tuple[dict[str, Any], list[str]]:
    """The latest answer for each of ``names`` in ``folder`` (files ``NNNN.json``), and problems met.

    A name never exported is absent from the result. ``raw``, when given, receives each
    answer's data as exported (what :meth:`FunctionRunner.grade` sends back to a sandbox).
    """
    wanted = set(names)
    answers: dict[str, Any] = {}
    problems: list[str] = []
    raw = {} if raw is None else raw
    try:
        entries = sorted(e for e in os.listdir(folder)
                         if len(e) == 9 and e.endswith(".json") and e[:4].isdigit())
    except OSError:
        return answers, problems
    for entry in entries:
        try:
            data = json.loads(read_file(Path(folder), entry))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as error:
            problems.append(f"answers could not be read ({entry}: {error})")
            continue
        for name, encoded in data.items():
            if name not in wanted:
                continue
            raw[name] = encoded
            try:
                answers[name] = decode(encoded)
            except Exception as error:
                why = f"its data is malformed ({type(error).__name__}: {str(error)[:200]})"
                answers[name] = Unreadable("?", why)
    return answers, problems


class LearnerError(Exception):
    """An exception raised by a learner's function in the sandbox (its class is named after the original)."""

    learner_where: str | None = None


class NeedsSandbox(BaseException):  # noqa: N818 - a signal to the gradebook, not an error
    """The grader passed the learner's function something that is not data (a client, a recorder).

    A BaseException, so that the grader's own ``except Exception`` lets it through: the gradebook
    then grades that exercise in the sandbox, grader and learner code together.
    """


def _exception_class(module: str, name: str) -> type[BaseException] | None:
    """The original exception class when it is a builtin or already imported here (never imports)."""
    if not name.isidentifier():
        return None
    owner = builtins if module == "builtins" else sys.modules.get(module)
    kind = getattr(owner, name, None) if owner is not None else None
    return kind if isinstance(kind, type) and issubclass(kind, Exception) else None


def _learner_error(kind: str, message: str, where: str | None, module: str = "") -> LearnerError:
    """An exception for the grader: a LearnerError that is also of the learner's class when known,
    so ``except ValueError`` in a grader catches the learner's ValueError."""
    name = kind if kind.isidentifier() else "Exception"
    original = _exception_class(module, name)
    error: LearnerError | None = None
    if original is not None:
        with contextlib.suppress(TypeError):
            cls = type(name, (original, LearnerError), {})
            error = cls.__new__(cls)
            BaseException.__init__(error, message)
    if error is None:
        error = type(name, (LearnerError,), {})(message)
    error.learner_where = where
    return error


class FunctionRunner:
    """Calls learner functions in a sandboxed ``serve`` process (one per submission, started lazily)."""

    def __init__(self, start: Callable[[], subprocess.Popen[bytes]],
                 call_timeout: float = CALL_TIMEOUT_S) -> None:
        self._start = start
        self.call_timeout = call_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._defined: set[int] = set()
        self._broken: str | None = None
        self._buffer = b""

    def _request(self, message: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        if self._broken:
            raise _learner_error("RuntimeError", self._broken, None)
        if self._process is None:
            self._process = self._start()
        process = self._process
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(json.dumps(message).encode() + b"\n")
            process.stdin.flush()
        except OSError:
            self._break("the sandbox running your function stopped")
        deadline = time.monotonic() + timeout
        fd = process.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._break(f"it did not return within {timeout:g} s", "TimeoutError")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                self._break("the sandbox running your function stopped (out of memory, or it exited)")
            self._buffer += chunk
            if len(self._buffer) > MAX_FILE_BYTES:
                self._break("its result is too large")
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            reply = json.loads(line)
            if not isinstance(reply, dict):
                raise ValueError
        except ValueError:
            self._break("the sandbox sent a malformed reply")
        if "error" in reply:
            error = reply["error"] if isinstance(reply["error"], dict) else {}
            where = str(error["where"])[:200] if error.get("where") else None
            kind, message = str(error.get("type", "Exception"))[:60], str(error.get("message", ""))[:500]
            raise _learner_error(kind, message, where, str(error.get("module", ""))[:100])
        return reply

    def _break(self, why: str, kind: str = "RuntimeError") -> None:
        self._broken = why
        self.close()
        raise _learner_error(kind, why, None)

    def call(self, definition: FunctionDefinition, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        """Call the learner's function with ``args`` in the sandbox; its result, decoded."""
        key = id(definition)
        if key not in self._defined:
            self._request({"op": "define", "id": key, "definition": dict(definition.data)}, START_TIMEOUT_S)
            self._defined.add(key)
        try:
            encoded = {"op": "call", "id": key, "args": [encode(a) for a in args],
                       "kwargs": {k: encode(v) for k, v in kwargs.items()}}
        except TypeError as error:  # a live object (client, connection, recorder): not data
            raise NeedsSandbox(str(error)) from None
        reply = self._request(encoded, self.call_timeout)
        return decode(reply.get("value"))

    def grade(self, notebook: str, exercise: str, answers: Mapping[str, Any], timeout: float,
              modules: Sequence[str] = ()) -> dict[str, Any]:
        """Have the sandbox grade ``exercise`` itself, on the exported ``answers`` (raw data).

        ``modules``: grader modules to import there besides the registry's own.
        """
        reply = self._request({"op": "grade", "notebook": notebook, "exercise": exercise,
                               "answers": dict(answers), "modules": list(modules)}, timeout)
        value = reply.get("value")
        if not isinstance(value, dict):
            self._break("the sandbox sent a malformed grade")
        return value

    def close(self) -> None:
        """Stop the sandboxed process."""
        if self._process is not None:
            with contextlib.suppress(OSError):
                self._process.kill()
            with contextlib.suppress(Exception):
                self._process.wait(timeout=5)
            for stream in (self._process.stdin, self._process.stdout):
                with contextlib.suppress(Exception):
                    stream.close()  # type: ignore[union-attr]
            self._process = None


class LearnerFunction:
    """What a grader gets for a function answer: calling it runs the learner's code in the sandbox."""

    def __init__(self, definition: FunctionDefinition, runner: FunctionRunner) -> None:
        self.definition = definition
        self.runner = runner
        self.__name__ = definition.name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.runner.call(self.definition, args, kwargs)

    def __repr__(self) -> str:
        return f"<learner function {self.definition.name} (runs in the grading sandbox)>"


# --- the sandbox side: ``python -I -m utils.teaching.answers serve`` ---------------------------------


def _where(error: BaseException) -> str | None:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == "<learner answer>"]
    if not frames:
        return None
    return f"in {frames[-1].name}, line {frames[-1].lineno} of its definition"


def _grade_here(request: Mapping[str, Any]) -> dict[str, Any]:
    """Run a declared grader in this (sandboxed) process, on the answers, learner functions rebuilt."""
    from utils.teaching import registry

    for module in request.get("modules", []):
        importlib.import_module(module)
    declared = registry.exercises_for(request["notebook"])
    exercise = next(ex for ex in declared if ex.exercise == request["exercise"])
    raised: list[str] = []

    def watched(function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except BaseException as error:
                raised.append(type(error).__name__)
                raise
        call.__name__ = getattr(function, "__name__", "function")
        return call

    args = []
    for name in exercise.answer_names:
        value = decode(request["answers"].get(name, {"$": "missing"}))
        if isinstance(value, FunctionDefinition):
            value = watched(build_function(value.data))
        args.append(None if isinstance(value, Missing | Unreadable) else value)
    result = exercise.grader(*args).to_dict()
    # "Your answer raised ..." although the learner's code raised nothing: the grader itself failed here
    # (it may need what a sandbox does not have: a password, an account with more rights).
    blamed = str(result["feedback"]).startswith("Your answer raised")
    result["grader_failed"] = not result["passed"] and blamed and not raised
    return result


def serve() -> int:
    """Serve ``define``/``call`` requests on stdin/stdout (one JSON object per line)."""
    protocol = os.fdopen(os.dup(1), "wb")
    requests = os.fdopen(os.dup(0), "rb")
    os.dup2(2, 1)  # the learner's prints go to the log, never into the protocol
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # nor can input() read the requests
    os.close(null)
    sys.stdout = sys.stderr
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - for the whole process
    import numpy  # noqa: F401 - so encode/decode know arrays and frames
    import pandas  # noqa: F401

    functions: dict[int, Any] = {}
    for line in requests:
        try:
            request = json.loads(line)
            if request["op"] == "define":
                functions[request["id"]] = build_function(request["definition"])
                reply: dict[str, Any] = {"ok": True}
            elif request["op"] == "grade":
                reply = {"ok": True, "value": _grade_here(request)}
            else:
                function = functions[request["id"]]
                args = [decode(a) for a in request.get("args", [])]
                kwargs = {k: decode(v) for k, v in request.get("kwargs", {}).items()}
                reply = {"ok": True, "value": encode(function(*args, **kwargs))}
        except (Exception, SystemExit) as error:  # the learner's code: any exception is its result
            reply = {"error": {"type": type(error).__name__, "module": type(error).__module__,
                               "message": str(error)[:500], "where": _where(error)}}
        protocol.write(json.dumps(reply).encode() + b"\n")
        protocol.flush()
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        sys.exit(serve())
    print("usage: python -m utils.teaching.answers serve", file=sys.stderr)
    sys.exit(2)

"""folder: the output folder of an audit — locked for the audit's life, checked before it is
written into, and the record that lets `--resume` finish the same audit and only that.

The lock is a POSIX record lock (`fcntl.lockf`) on `.lock` in the folder: the kernel releases
it when the process ends, however it ends (`kill -9` included), and the worker processes forked
by the audit do not inherit it, so a `--resume` right after a crash finds the folder free. A
second audit into a locked folder stops at once with exit status 2, before it writes anything.

The fence is the other lock, a `flock` on `.fence`, which the processes the audit forks do
inherit: it is held until the audit and the last of its workers have ended. A pool's worker
writes its chunk's results into results.jsonl itself (`spill.Turn`), and after a `kill -9` of
the audit it may still be writing for a moment (it ends within a second: `lifetime`); the next
audit into the folder waits for the fence before it cuts the files back to their checkpoint, so
no such write lands in what it writes.

The record kept in the ledger: the inputs and options (`fingerprint`), and the rulebook the
audit judges with — its digest, rulebook's version and the digest of each rule file — so that
a resume with edited rule files is refused, naming the files that changed, instead of
finishing with the verdicts of two rulebooks in one results.jsonl.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import threading
import time
from pathlib import Path

from ... import __version__
from .files import ERRORS, RESULTS
from .ledger import LEDGER, Ledger
from .options import AuditError, Options
from .summary import previous_ledger

LOCK = ".lock"
FENCE = ".fence"
FENCE_WAIT = 30.0  # seconds an audit waits for an earlier audit's processes to end

# Folders locked by this process: a POSIX lock does not keep out the process that holds it, and
# closing any descriptor of the lock file would release it, so the process keeps its own list.
_HELD: set[str] = set()
_HELD_GUARD = threading.Lock()


class FolderLock:
    """The output folder held by this audit until `release` (or the process's end)."""

    def __init__(self, folder: Path):
        self.key = os.path.realpath(folder)
        with _HELD_GUARD:
            if self.key in _HELD:
                raise _busy(folder, os.getpid())
            path = folder / LOCK
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                holder = _holder(fd)
                os.close(fd)
                if error.errno in (errno.EACCES, errno.EAGAIN):
                    raise _busy(folder, holder) from None
                raise
            try:
                self.fence = _fence(folder)
            except BaseException:
                os.close(fd)
                raise
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self.fd = fd
            _HELD.add(self.key)

    def release(self) -> None:
        with _HELD_GUARD:
            if self.fd is not None:
                os.close(self.fence)  # (held on by the processes this one forked, while they live)
                os.close(self.fd)
                self.fd = None
                _HELD.discard(self.key)


def _fence(folder: Path, wait: float | None = None) -> int:
    """The folder's fence (see the module's docstring) taken, once every process of an earlier
    audit into it has ended — waited for up to FENCE_WAIT seconds —; its descriptor."""
    fd = os.open(folder / FENCE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    deadline = time.monotonic() + (FENCE_WAIT if wait is None else wait)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError as error:
            if error.errno not in (errno.EACCES, errno.EAGAIN, errno.EWOULDBLOCK):
                os.close(fd)
                raise
            if time.monotonic() > deadline:
                os.close(fd)
                raise AuditError(f"`{folder}` に書き込んでいた以前の監査のプロセスがまだ終わっていません。"
                                 "それらが終わってからやり直してください",
                                 f"processes of an earlier audit into `{folder}` are still running; try again once "
                                 "they have ended") from None
        time.sleep(0.02)


def _holder(fd: int) -> int | None:
    """The pid the holder of the lock wrote into the lock file, if it says one."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def _busy(folder: Path, pid: int | None) -> AuditError:
    who_ja = f"別の監査(プロセス {pid})" if pid else "別の監査"
    who_en = f"another audit (process {pid})" if pid else "another audit"
    return AuditError(f"`{folder}` には{who_ja}が書き込み中です。終わるのを待つか、別の --out を指定してください",
                      f"{who_en} is writing into `{folder}`; wait for it to end, or choose another --out")


# ----------------------------------------------------------------- the record

def fingerprint(options: Options) -> dict:
    """The inputs and options that make an audit the same audit."""
    inputs = []
    for name in options.inputs:
        try:
            info = os.stat(name)
            inputs.append([os.path.abspath(name), info.st_size, int(info.st_mtime)])
        except OSError:
            inputs.append([os.path.abspath(name), None, None])
    # "units": how the checkpoint counts the input done (a plain JSON Lines file by its lines)
    return {"inputs": inputs, "units": "lines", "as_of": options.as_of.isoformat() if options.as_of else None,
            "compact": options.compact, "rules": options.rules}


def rulebook_record(rules: str | None, digest: str) -> dict:
    """The rulebook an audit judges with (loaded from `rules`, its digest `digest`): its digest,
    rulebook's version, and each rule file's digest."""
    from ...book import RULE_SUFFIX, bundled_rules

    folder = Path(rules) if rules is not None else bundled_rules()
    files = {path.relative_to(folder).as_posix(): "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
             for path in sorted(folder.rglob(f"*{RULE_SUFFIX}")) if path.is_file()}
    return {"digest": digest, "version": __version__, "files": files}


def _rulebook_changes(before: dict, now: dict) -> tuple[str, str]:
    """What differs between two rulebook records, in Japanese and English."""
    old, new = before.get("files") or {}, now["files"]
    changed = [n for n in sorted(old.keys() & new.keys()) if old[n] != new[n]]
    added, removed = sorted(new.keys() - old.keys()), sorted(old.keys() - new.keys())
    ja, en = [], []
    for names, verb_ja, verb_en in ((changed, "変更", "changed"), (added, "追加", "added"),
                                    (removed, "削除", "removed")):
        if names:
            listed = ", ".join(f"`{n}`" for n in names)
            ja.append(f"{listed} が{verb_ja}されました")
            en.append(f"{listed} {verb_en}")
    if before.get("version") != now["version"]:
        ja.append(f"rulebook の版が {before.get('version')} から {now['version']} になりました")
        en.append(f"rulebook was {before.get('version')} and is now {now['version']}")
    if not ja:  # the same files and version: the grammar read them otherwise
        ja.append("ルールファイルは同じですが、文法が変わりました")
        en.append("the rule files are the same, but the grammar that reads them changed")
    return "、".join(ja), "; ".join(en)


def open_folder(folder: Path, options: Options, digest: str) -> tuple[FolderLock, Ledger]:
    """The output folder locked, and its ledger: new, or the one of the same audit to resume
    (`digest`: the loaded rulebook's)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = FolderLock(folder)
    except AuditError:
        raise
    except OSError as error:
        raise _unwritable(folder, error) from None
    try:
        return lock, _open_ledger(folder, options, digest)
    except BaseException:
        lock.release()
        raise


def _unwritable(folder: Path, error: OSError) -> AuditError:
    reason = error.strerror or str(error)
    return AuditError(f"出力フォルダ `{folder}` に書き込めません: {reason}",
                      f"cannot write to the output folder `{folder}`: {reason}")


def _open_ledger(folder: Path, options: Options, digest: str) -> Ledger:
    try:
        probe = folder / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise _unwritable(folder, error) from None
    existing = (folder / LEDGER).exists()
    if existing and not options.resume:
        raise AuditError(f"`{folder}` にはすでに監査があります。続きを行うには --resume を付けるか、別の --out を指定してください",
                         f"`{folder}` already holds an audit: add --resume to finish it, or choose another --out")
    if not existing and options.resume and any((folder / name).exists() for name in (RESULTS, ERRORS)):
        raise AuditError(f"`{folder}` には結果がありますが、再開に使う台帳がありません。別の --out を指定してください",
                         f"`{folder}` holds results but no ledger to resume from; choose another --out")
    if options.since is not None:
        previous_ledger(options.since)  # before the work, not after it
    ledger = Ledger(folder)
    try:
        _check_record(ledger, folder, options, digest)
    except BaseException:
        ledger.close()
        raise
    return ledger


def _check_record(ledger: Ledger, folder: Path, options: Options, digest: str) -> None:
    """Keep the record of a new audit; refuse to resume an audit of other inputs, options or rules."""
    record, rulebook = fingerprint(options), rulebook_record(options.rules, digest)
    stored = ledger.get("fingerprint")
    if stored is None:  # a new audit (the rulebook first: a fingerprint says the record is whole)
        ledger.set("rulebook", rulebook)
        ledger.set("fingerprint", record)
        return
    if stored != record:
        raise AuditError(f"`{folder}` には別の入力またはオプションの監査があります。--resume は同じ監査の続きだけを行います",
                         f"`{folder}` holds an audit of other inputs or options; --resume finishes the same audit")
    before = ledger.get("rulebook")
    if before is None:
        raise AuditError(f"`{folder}` の監査は、使ったルールブックを記録しない以前の版の rulebook で始められたため、"
                         "同じルールブックで続けられるか確かめられません。新しいフォルダで監査をやり直してください",
                         f"the audit in `{folder}` was begun by an earlier rulebook that kept no record of its rules, "
                         "so it cannot be resumed safely: start the audit again in a new folder")
    if before.get("digest") != rulebook["digest"] or before.get("version") != rulebook["version"]:
        what_ja, what_en = _rulebook_changes(before, rulebook)
        raise AuditError(f"この監査を始めてからルールブックが変わりました({what_ja})。続けると2つのルールブックの判定が"
                         "混ざります。ルールファイルを元に戻すか、新しいフォルダで監査をやり直してください",
                         f"the rulebook changed since this audit began ({what_en}); resuming would mix the verdicts "
                         "of two rulebooks: restore the rule files, or start the audit again in a new folder")

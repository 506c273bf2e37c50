"""The presenter's keys: what each byte sequence means, and `KeyReader` on a real
pseudo-terminal — keys typed arrive in order, and the terminal is left as it was found
(never raw), whatever ended the show."""

from __future__ import annotations

import os
import queue
import termios
import time
from collections.abc import Iterator

import pytest

from sreshow.walkthrough.keys import Key, KeyReader, keys_in


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (b" ", Key.NEXT),
        (b"\r", Key.NEXT),
        (b"\n", Key.NEXT),
        (b"n", Key.NEXT),
        (b"N", Key.NEXT),
        (b"\x1b[C", Key.NEXT),  # →
        (b"\x1bOC", Key.NEXT),  # → in application cursor mode
        (b"p", Key.PAUSE),
        (b"P", Key.PAUSE),
        (b"r", Key.REPEAT),
        (b"R", Key.REPEAT),
        (b"q", Key.QUIT),
        (b"Q", Key.QUIT),
        (b"x", Key.EMERGENCY),
        (b"X", Key.EMERGENCY),
        (b"!", Key.EMERGENCY),
    ],
)
def test_each_key_means_what_the_help_says(data: bytes, key: Key) -> None:
    assert keys_in(data) == [key]


@pytest.mark.parametrize(
    "data",
    [
        b"a",
        b"z",
        b"1",
        b"\t",
        b"\x7f",  # backspace
        b"\x1b",  # escape alone
        b"\x1b[A",  # ↑
        b"\x1b[B",  # ↓
        b"\x1b[D",  # ←
        b"\x1b[6~",  # page down
        b"\x1bOP",  # F1
        b"\x1bOQ",  # F2
        b"\x1bOR",  # F3
    ],
    ids=[
        "a",
        "z",
        "1",
        "tab",
        "backspace",
        "escape",
        "up",
        "down",
        "left",
        "page-down",
        "F1",
        "F2",
        "F3",
    ],
)
def test_other_keys_and_escape_sequences_do_nothing(data: bytes) -> None:
    # An escape sequence is one key: its last letter is no key of ours (F2 ends
    # with Q, and must not end the show).
    assert keys_in(data) == []


def test_several_keys_in_one_read_come_in_order_and_unknown_bytes_between_are_skipped() -> None:
    data = b"n\x1b[Cza p\rr?Q\x1bOCx!"

    assert keys_in(data) == [
        Key.NEXT,
        Key.NEXT,
        Key.NEXT,
        Key.PAUSE,
        Key.NEXT,
        Key.REPEAT,
        Key.QUIT,
        Key.NEXT,
        Key.EMERGENCY,
        Key.EMERGENCY,
    ]
    assert keys_in(b"") == []


# --- KeyReader on a pseudo-terminal ------------------------------------------------


@pytest.fixture
def terminal() -> Iterator[tuple[int, int]]:
    """A pseudo-terminal: (master, slave); the test types on the master."""
    master, slave = os.openpty()
    try:
        yield master, slave
    finally:
        os.close(master)
        os.close(slave)


def received(keys: queue.Queue[Key], count: int, within: float = 5.0) -> list[Key]:
    deadline = time.monotonic() + within
    found: list[Key] = []
    while len(found) < count:
        try:
            found.append(keys.get(timeout=max(deadline - time.monotonic(), 0.01)))
        except queue.Empty:
            break
    return found


def test_keys_typed_on_the_terminal_arrive_at_the_callback_in_order(
    terminal: tuple[int, int],
) -> None:
    master, slave = terminal
    keys: queue.Queue[Key] = queue.Queue()

    with KeyReader(slave, keys.put):
        os.write(master, b"n")
        first = received(keys, 1)
        os.write(master, b"p \x1b[Cq")
        rest = received(keys, 4)
        os.write(master, b"x")
        last = received(keys, 1)

    assert first == [Key.NEXT]  # one key arrives on its own: no Enter needed
    assert rest == [Key.PAUSE, Key.NEXT, Key.NEXT, Key.QUIT]
    assert last == [Key.EMERGENCY]
    assert keys.empty()


def test_the_reader_puts_the_terminal_in_cbreak_mode_and_restores_it_on_exit(
    terminal: tuple[int, int],
) -> None:
    _, slave = terminal
    before = termios.tcgetattr(slave)
    assert before[3] & termios.ICANON
    assert before[3] & termios.ECHO

    with KeyReader(slave, lambda _: None):
        during = termios.tcgetattr(slave)

    assert not during[3] & termios.ICANON  # keys unbuffered ...
    assert not during[3] & termios.ECHO  # ... and not echoed over the screen
    assert during[3] & termios.ISIG  # Ctrl-C still interrupts
    assert termios.tcgetattr(slave) == before


def test_the_terminal_is_restored_when_the_show_ends_with_an_error(
    terminal: tuple[int, int],
) -> None:
    master, slave = terminal
    before = termios.tcgetattr(slave)
    keys: queue.Queue[Key] = queue.Queue()
    got: list[Key] = []

    def a_show_that_breaks() -> None:
        with KeyReader(slave, keys.put):
            os.write(master, b"q")
            got.extend(received(keys, 1))
            raise RuntimeError("the show broke")

    with pytest.raises(RuntimeError, match="the show broke"):
        a_show_that_breaks()

    assert got == [Key.QUIT]  # the terminal was in cbreak mode while the show ran
    assert termios.tcgetattr(slave) == before


def test_keys_typed_after_the_reader_stopped_are_not_read(
    terminal: tuple[int, int],
) -> None:
    master, slave = terminal
    keys: queue.Queue[Key] = queue.Queue()

    with KeyReader(slave, keys.put):
        pass
    os.write(master, b"q\n")

    assert received(keys, 1, within=0.5) == []
    # What was typed is left for whoever reads the terminal next.
    assert os.read(slave, 32) == b"q\n"

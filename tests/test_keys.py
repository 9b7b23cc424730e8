"""The key and mouse parser on byte strings, and `read_key` on a real pseudo-terminal."""

from __future__ import annotations

import os
import pty
import select
import termios
import threading
import time

import numpy as np
import pytest

from fooldigits.pad.keys import Event, Key, Mouse, Parser, read_key


def parse(data: bytes) -> list[Event]:
    parser = Parser()
    return parser.feed(data) + parser.flush()


@pytest.mark.parametrize(("data", "name"), [
    (b"q", "q"), (b" ", " "), (b"+", "+"), (b"7", "7"), (b"\r", "enter"), (b"\n", "enter"),
    (b"\t", "tab"), (b"\x7f", "backspace"), (b"\x03", "ctrl-c"), (b"\x01", "ctrl-a"),
    (b"\x1b", "esc"), (b"\x1b[A", "up"), (b"\x1b[B", "down"), (b"\x1b[C", "right"),
    (b"\x1b[D", "left"), (b"\x1bOA", "up"), (b"\x1bOD", "left"), (b"\x1b[1;5A", "up"),
    (b"\x1b[3~", "delete"), (b"\x1b[5~", "page-up"), (b"\x1b[H", "home"), (b"\x1bOP", "f1"),
    (b"\x1b[15~", "f5"), (b"\x1b[Z", "shift-tab"), (b"\xc3\xa9", "é"), (b"\xe2\x82\xac", "€"),
    (b"\x1bx", "alt-x"),
])
def test_one_key(data: bytes, name: str) -> None:
    assert parse(data) == [Key(name)]


def test_sgr_mouse_press_drag_release_in_zero_based_cells() -> None:
    assert parse(b"\x1b[<0;10;5M\x1b[<32;20;8M\x1b[<0;20;8m") == [
        Mouse("press", 0, 9, 4), Mouse("drag", 0, 19, 7), Mouse("release", 0, 19, 7)]
    assert parse(b"\x1b[<2;1;1M\x1b[<34;3;1M\x1b[<2;3;1m") == [
        Mouse("press", 2, 0, 0), Mouse("drag", 2, 2, 0), Mouse("release", 2, 2, 0)]
    assert parse(b"\x1b[<64;5;5M\x1b[<65;5;5M\x1b[<35;7;9M") == [
        Mouse("wheel", 0, 4, 4), Mouse("wheel", 1, 4, 4), Mouse("move", 3, 6, 8)]
    assert parse(b"\x1b[<4;300;120M") == [Mouse("press", 0, 299, 119)]  # shift held


def test_old_x10_mouse_reports_are_understood() -> None:
    assert parse(b"\x1b[M" + bytes([32, 33 + 9, 33 + 4])) == [Mouse("press", 0, 9, 4)]
    assert parse(b"\x1b[M" + bytes([35, 40, 40])) == [Mouse("release", 3, 7, 7)]


def test_a_sequence_split_at_every_byte_gives_the_same_events() -> None:
    data = (b"a\x1b[<0;10;5M\x1b[A\x1bOB\x1b[3~\xc3\xa9\x1b[<32;11;5M"
            b"\x1b[<0;11;5m\x1b[M !!q")
    whole = parse(data)
    assert len(whole) == 10 and whole[-1] == Key("q")
    for cut in range(1, len(data)):
        parser = Parser()
        assert parser.feed(data[:cut]) + parser.feed(data[cut:]) + parser.flush() == whole
    parser = Parser()
    one_by_one = [e for i in range(len(data)) for e in parser.feed(data[i : i + 1])]
    assert one_by_one == whole


def test_an_unfinished_sequence_waits_and_a_lone_escape_is_the_esc_key() -> None:
    parser = Parser()
    assert parser.feed(b"\x1b") == [] and parser.feed(b"[") == []
    assert parser.feed(b"A") == [Key("up")]
    assert parser.feed(b"\x1b") == [] and parser.flush() == [Key("esc")]
    assert parser.feed(b"\x1b\x1b[B") == [Key("esc"), Key("down")]
    assert parser.feed(b"\x1b[") == [] and parser.flush() == [Key("esc"), Key("[")]


def test_garbage_is_dropped_not_turned_into_keys() -> None:
    assert parse(b"\x1b[99x\x1b[<1;2M\x1b[<0;0;0M\x1b[I\x1b[Oq") == [Key("q")]
    assert parse(b"\x1b[" + b"1;" * 200 + b"Aq") == [Key("q")]  # overlong: dropped whole
    assert parse(b"\x80\xbf\xff\xc3q") == [Key("q")]  # invalid UTF-8
    assert parse(b"\x1b[12\x01q") == [Key("ctrl-a"), Key("q")]  # broken sequence


def test_random_bytes_never_raise_and_always_yield_well_formed_events() -> None:
    rng = np.random.default_rng(0)
    alphabet = np.frombuffer(b"\x1b[<;M m0123456789AOq~\x80\xc3", dtype=np.uint8)
    for _ in range(300):
        parser = Parser()
        data = bytes(rng.choice(alphabet, rng.integers(1, 80)))
        if rng.random() < 0.5:
            data = rng.bytes(int(rng.integers(1, 80)))
        events = parser.feed(data) + parser.flush()
        for event in events:
            assert isinstance(event, Key | Mouse)
            if isinstance(event, Mouse):
                assert event.x >= 0 and event.y >= 0 and 0 <= event.button <= 3
        assert parser.buffer == b""


def type_once_waiting(master: int, slave: int, data: bytes) -> None:
    """Type `data` once `read_key` waits: its terminal mode is set (cbreak, so ICANON off)
    after it forgot the keys typed before. A fixed 0.2 s timer could type before a
    `read_key` slowed down by a busy machine had begun: the key was then forgotten too,
    and the test waited for ever."""
    deadline = time.monotonic() + 60
    while termios.tcgetattr(slave)[3] & termios.ICANON and time.monotonic() < deadline:
        time.sleep(0.001)
    os.write(master, data)


def test_read_key_returns_whole_keys_and_restores_the_terminal() -> None:
    master, slave = pty.openpty()
    try:
        before = termios.tcgetattr(slave)
        os.write(master, b"\x1b[Aq\x1b[<0;3;4M\r")
        assert read_key(slave, flush=False) == "up"  # one key, not three
        assert read_key(slave, flush=False) == "q"
        assert read_key(slave, flush=False) == "enter"  # the mouse report is skipped
        os.write(master, b"\x1b")
        assert read_key(slave, escape_wait=0.02, flush=False) == "esc"
        assert termios.tcgetattr(slave) == before
        os.write(master, b"x\n")  # typed before the call: forgotten
        assert select.select([slave], [], [], 5)[0]  # (a pty delivers input a bit later)
        later = threading.Thread(target=type_once_waiting, args=(master, slave, b"\x1b[B"))
        later.start()
        assert read_key(slave) == "down"
        later.join()
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)

"""An asyncio event loop for the guest, built on `wasi:io/poll`.

`asyncio.run` cannot work in the guest (the default loop needs a socketpair
and threads). This loop runs callbacks, timers (`call_later` / `call_at`)
and tasks, and waits on WASI pollables (stream readiness, clocks). One loop
lives as long as the component instance, so tasks such as an ASGI lifespan
survive between requests.
"""

import asyncio
import heapq
import sys
import time
import traceback
from collections import deque

from wit_world.imports import monotonic_clock, poll


class WasiEventLoop(asyncio.AbstractEventLoop):
    def __init__(self):
        self._ready = deque()
        self._timers = []  # heap of TimerHandle, by when
        self._waiting = []  # (pollable, future)
        self._task_factory = None
        self._exception_handler = None
        self._running = False
        self._closed = False
        self._stopping = False
        self._debug = False

    # --- running -----------------------------------------------------------

    def run_until_complete(self, future):
        if self._running:
            raise RuntimeError("the fabricks event loop is already running")
        future = asyncio.ensure_future(future, loop=self)
        self._running = True
        self._stopping = False
        previous = asyncio.events._get_running_loop()
        asyncio.events._set_running_loop(self)
        try:
            while not future.done() and not self._stopping:
                self._run_once()
        finally:
            self._running = False
            asyncio.events._set_running_loop(previous)
        return future.result()

    def _run_once(self):
        if self._timers:
            # The clock is a host call: read only when a timer may be due.
            now = self.time()
            while self._timers and (self._timers[0]._cancelled or self._timers[0].when() <= now):
                timer = heapq.heappop(self._timers)
                if not timer._cancelled:
                    self._ready.append(timer)
        if self._ready:
            # Only what is ready now; callbacks they schedule run next turn.
            for _ in range(len(self._ready)):
                handle = self._ready.popleft()
                if not handle._cancelled:
                    handle._run()
            if not self._waiting:
                return
            self._wait(0)
            return
        if not self._waiting and not self._timers:
            raise RuntimeError("the app is waiting for something that can never happen (no task, timer or I/O is pending)")
        timeout = None
        if self._timers:
            timeout = max(0.0, self._timers[0].when() - self.time())
        self._wait(timeout)

    def _wait(self, timeout):
        """Block until a pollable is ready or `timeout` seconds pass (None: no limit)."""
        pollables = [pollable for pollable, _ in self._waiting]
        clock = None
        if timeout is not None:
            clock = monotonic_clock.subscribe_duration(int(timeout * 1e9))
            pollables.append(clock)
        if not pollables:
            return
        ready = set(poll.poll(pollables))
        still_waiting = []
        for index, (pollable, future) in enumerate(self._waiting):
            if index in ready:
                pollable.__exit__(None, None, None)
                if not future.done():
                    future.set_result(None)
            elif future.cancelled():
                pollable.__exit__(None, None, None)
            else:
                still_waiting.append((pollable, future))
        self._waiting = still_waiting
        if clock is not None:
            clock.__exit__(None, None, None)

    def wait_for(self, pollable):
        """A future that completes when the WASI `pollable` is ready (the
        loop takes ownership of the pollable)."""
        future = self.create_future()
        self._waiting.append((pollable, future))
        return future

    def run_forever(self):
        raise NotImplementedError("the fabricks event loop runs one request at a time")

    def is_running(self):
        return self._running

    def is_closed(self):
        return self._closed

    def stop(self):
        self._stopping = True

    def close(self):
        self._closed = True

    async def shutdown_asyncgens(self):
        pass

    async def shutdown_default_executor(self, timeout=None):
        pass

    # --- scheduling --------------------------------------------------------

    def call_soon(self, callback, *args, context=None):
        handle = asyncio.Handle(callback, args, self, context)
        self._ready.append(handle)
        return handle

    call_soon_threadsafe = call_soon

    def call_later(self, delay, callback, *args, context=None):
        return self.call_at(self.time() + delay, callback, *args, context=context)

    def call_at(self, when, callback, *args, context=None):
        timer = asyncio.TimerHandle(when, callback, args, self, context)
        heapq.heappush(self._timers, timer)
        timer._scheduled = True
        return timer

    def _timer_handle_cancelled(self, handle):
        pass  # cancelled timers are skipped when they come due

    def time(self):
        return time.monotonic()

    def create_future(self):
        return asyncio.Future(loop=self)

    def create_task(self, coro, **kwargs):
        if self._task_factory is None:
            return asyncio.Task(coro, loop=self, **kwargs)
        return self._task_factory(self, coro, **kwargs)

    def set_task_factory(self, factory):
        self._task_factory = factory

    def get_task_factory(self):
        return self._task_factory

    # --- no threads, no processes: run inline ------------------------------

    def run_in_executor(self, executor, func, *args):
        future = self.create_future()
        try:
            future.set_result(func(*args))
        except BaseException as error:
            future.set_exception(error)
        return future

    def set_default_executor(self, executor):
        pass

    # --- errors ------------------------------------------------------------

    def get_exception_handler(self):
        return self._exception_handler

    def set_exception_handler(self, handler):
        self._exception_handler = handler

    def default_exception_handler(self, context):
        message = context.get("message", "unhandled exception in the event loop")
        print(f"fabricks: {message}", file=sys.stderr)
        error = context.get("exception")
        if error is not None:
            traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)

    def call_exception_handler(self, context):
        if self._exception_handler is not None:
            self._exception_handler(self, context)
        else:
            self.default_exception_handler(context)

    def get_debug(self):
        return self._debug

    def set_debug(self, enabled):
        self._debug = enabled

    # --- what the guest cannot do -------------------------------------------

    def _unsupported(self, *args, **kwargs):
        raise NotImplementedError("not available in a wasi:http guest (no sockets, signals, processes or threads)")

    add_reader = remove_reader = add_writer = remove_writer = _unsupported
    add_signal_handler = remove_signal_handler = _unsupported
    create_connection = create_server = create_datagram_endpoint = _unsupported
    getaddrinfo = getnameinfo = sock_connect = sock_accept = _unsupported
    subprocess_exec = subprocess_shell = connect_read_pipe = connect_write_pipe = _unsupported


class _Policy(asyncio.DefaultEventLoopPolicy):
    """`asyncio.get_event_loop()` and `new_event_loop()` give the one loop."""

    def __init__(self, loop):
        super().__init__()
        self._the_loop = loop

    def get_event_loop(self):
        return self._the_loop

    def new_event_loop(self):
        return self._the_loop


_LOOP = None


def get_loop():
    """The instance's loop, installed as asyncio's on first use."""
    global _LOOP
    if _LOOP is None:
        _LOOP = WasiEventLoop()
        try:
            asyncio.set_event_loop_policy(_Policy(_LOOP))
        except Exception:
            pass
    return _LOOP

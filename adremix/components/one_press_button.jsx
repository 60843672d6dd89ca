// A button that acts once per press, however fast or often it is clicked.
//
// The lock is a ref, set synchronously in the click handler, so a double click, a
// bouncing mouse or ten element.click() calls in one tick reach the server once. The
// button shows its busy label at once, before any round trip, and stays busy until the
// server acknowledges the press (the `ack` prop changes) and at least `minBusyMs` have
// passed, so a double click's second press lands inside the busy window even when the
// server answers fast. `maxBusyMs` is a backstop for a lost connection: pressing again
// is then safe because the server deduplicates presses by their idempotency key.
import React, { useCallback, useEffect, useRef, useState } from "react";
import { Button, Spinner } from "@radix-ui/themes";

export function OnePressButton({
  onPress,
  ack,
  busy = false,
  busyLabel = "Working…",
  minBusyMs = 800,
  maxBusyMs = 30000,
  disabled = false,
  children,
  ...rest
}) {
  const pending = useRef(null);
  const timer = useRef(null);
  const [pressed, setPressed] = useState(false);

  const release = useCallback(() => {
    pending.current = null;
    setPressed(false);
  }, []);

  useEffect(() => {
    const press = pending.current;
    if (!press || ack === press.ack) return;
    clearTimeout(timer.current);
    timer.current = setTimeout(
      release,
      Math.max(0, press.since + minBusyMs - Date.now()),
    );
  }, [ack, minBusyMs, release]);

  useEffect(() => () => clearTimeout(timer.current), []);

  const handleClick = (event) => {
    if (pending.current || disabled || busy) {
      event.preventDefault();
      return;
    }
    pending.current = { ack, since: Date.now() };
    setPressed(true);
    clearTimeout(timer.current);
    timer.current = setTimeout(release, maxBusyMs);
    if (onPress) onPress(event);
  };

  const showBusy = pressed || busy;
  // aria-disabled rather than disabled while busy: the button keeps keyboard focus.
  const button = React.createElement(
    Button,
    {
      ...rest,
      key: "button",
      disabled,
      onClick: handleClick,
      "aria-disabled": showBusy || disabled ? "true" : undefined,
      "aria-busy": showBusy ? "true" : undefined,
      "data-busy": showBusy ? "true" : undefined,
    },
    showBusy
      ? [
          React.createElement(Spinner, { key: "spinner", size: "2", "aria-hidden": "true" }),
          React.createElement("span", { key: "label" }, busyLabel),
        ]
      : children,
  );
  // A screen reader is not told when the focused button's text changes: this polite
  // live region (always mounted, so changes to it are announced) says it is working.
  const status = React.createElement(
    "span",
    { key: "status", role: "status", className: "sr-only" },
    showBusy ? busyLabel : "",
  );
  return React.createElement(React.Fragment, null, button, status);
}

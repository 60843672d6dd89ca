// Keeps the credit balance the same in every open tab of the app.
//
// When this tab's balance changes (a purchase, a generation, a refund), it says so on a
// BroadcastChannel; every other tab of the same browser then asks the server for its
// balance. A tab coming back into view asks too. The server is the only source of the
// number: the message carries no balance a tab would trust.
import { useEffect, useRef } from "react";

const CHANNEL = "adremix-balance";

export function BalanceSync({ balance, onBalanceChanged }) {
  const channel = useRef(null);
  const refresh = useRef(onBalanceChanged);
  refresh.current = onBalanceChanged;

  useEffect(() => {
    const ask = () => refresh.current && refresh.current();
    const onVisible = () => {
      if (document.visibilityState === "visible") ask();
    };
    document.addEventListener("visibilitychange", onVisible);
    if (typeof BroadcastChannel !== "undefined") {
      channel.current = new BroadcastChannel(CHANNEL);
      channel.current.onmessage = ask;
    }
    return () => {
      document.removeEventListener("visibilitychange", onVisible);
      if (channel.current) channel.current.close();
      channel.current = null;
    };
  }, []);

  const last = useRef(balance);
  useEffect(() => {
    if (last.current !== balance) {
      last.current = balance;
      if (channel.current) channel.current.postMessage("changed");
    }
  }, [balance]);

  return null;
}

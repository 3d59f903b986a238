// Live updates without a build chain: when /ui/events says something changed, fetch this
// page's live region again and swap it in, keeping the focus where it was. Without
// JavaScript the page reloads itself instead (<noscript> refresh in base.html).
(() => {
  const region = document.getElementById("live");
  const status = document.getElementById("live-status");
  if (!region || !window.EventSource || !window.fetch) return;
  let busy = false;
  let again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const response = await fetch(location.href, {
        headers: { "X-Hoist-Fragment": "1" }, credentials: "same-origin", cache: "no-store" });
      if (response.ok) {
        const focused = document.activeElement ? document.activeElement.id : "";
        region.innerHTML = await response.text();
        const again_focus = focused && document.getElementById(focused);
        if (again_focus) again_focus.focus();
        status.textContent = "Live · updated " + new Date().toLocaleTimeString();
      }
    } catch (error) {
      status.textContent = "Live · update failed, retrying";
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }
  const events = new EventSource(region.dataset.events);
  events.addEventListener("change", refresh);
  events.onopen = () => { if (!status.textContent.startsWith("Live")) status.textContent = "Live"; };
  events.onerror = () => { status.textContent = "Reconnecting…"; };
})();

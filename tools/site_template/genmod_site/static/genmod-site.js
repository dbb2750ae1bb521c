// Draw every stored plotly output of the page, as JupyterLab's plotly renderer does:
// Plotly.newPlot, then Plotly.addFrames, so a figure's Play button and frame slider run
// in the page with no kernel. Base64 typed arrays ({dtype, bdata}) are decoded by plotly.js.
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll(".genmod-plotly")) {
    const spec = JSON.parse(box.querySelector("script").textContent);
    const gd = document.createElement("div");
    box.appendChild(gd);
    const config = Object.assign({ displaylogo: false }, spec.config || {});
    Plotly.newPlot(gd, spec.data || [], spec.layout || {}, config).then(() =>
      spec.frames && spec.frames.length ? Plotly.addFrames(gd, spec.frames) : gd
    );
  }
});

// plotly.js rejects the promise of an animation that another one interrupts (Pause, or a
// slider step while playing) with no reason, and its buttons leave that promise unhandled:
// a console error on every Pause. Such a rejection carries no error; drop only those.
window.addEventListener("unhandledrejection", (event) => {
  if (event.reason === undefined) event.preventDefault();
});

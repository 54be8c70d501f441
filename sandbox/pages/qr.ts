// The QR code of a deposit address, as an SVG string to inline into the page (no image request, no inline style).

/** An SVG QR code of `text`, medium error correction, a quiet zone of two modules. */
export async function qrSvg(text: string): Promise<string> {
  // Loaded with the first payment page rather than at start, which it slowed (see docs/performance.md).
  const { default: QRCode } = await import("qrcode");
  return QRCode.toString(text, { type: "svg", margin: 2, errorCorrectionLevel: "M", color: { dark: "#000000", light: "#ffffff" } });
}

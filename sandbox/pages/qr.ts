// The QR code of a deposit address, as an SVG string to inline into the page (no image request, no inline style).

import QRCode from "qrcode";

/** An SVG QR code of `text`, medium error correction, a quiet zone of two modules. */
export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: "svg", margin: 2, errorCorrectionLevel: "M", color: { dark: "#000000", light: "#ffffff" } });
}

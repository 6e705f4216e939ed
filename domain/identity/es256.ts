/** DER `SEQUENCE { INTEGER r, INTEGER s }` to JOSE's fixed-length `r || s`. */
export function derToJose(der: Uint8Array, size: number): Uint8Array {
  const bytes = Buffer.from(der);
  let offset = 2;
  if (bytes[1] !== undefined && bytes[1] & 0x80) offset += bytes[1] & 0x7f;
  const integer = () => {
    if (bytes[offset] !== 0x02) throw new Error("not a DER ECDSA signature");
    const length = bytes[offset + 1] ?? 0;
    const value = bytes.subarray(offset + 2, offset + 2 + length);
    offset += 2 + length;
    const trimmed = value.subarray(Math.max(0, value.length - size));
    return Buffer.concat([Buffer.alloc(size - trimmed.length), trimmed]);
  };
  return Buffer.concat([integer(), integer()]);
}

/** The signing input of a compact JWS: the protected header and the payload, each JSON in base64url. */
export function jwsSigningInput(header: object, payload: object): string {
  return `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
}

/**
 * CRC-16/CCITT-FALSE (a.k.a. CRC-16/IBM-3740): width 16, poly 0x1021, init 0xFFFF, not
 * reflected, xorout 0x0000; check value ("123456789") 0x29B1. Chosen because every
 * microcontroller library has it and it catches all 1- and 2-bit errors and all bursts up to
 * 16 bits in frames this short. Table-driven: one lookup per byte, no allocation per call.
 */

export const CRC16_CHECK_VALUE = 0x29b1;

const TABLE: Uint16Array = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    t[i] = crc;
  }
  return t;
})();

/** CRC of bytes[start, end). */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >>> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}

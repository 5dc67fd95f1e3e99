#include "mpcd_protocol.h"

#include <math.h>
#include <string.h>

namespace mpcd {

uint16_t crc16(const uint8_t* data, size_t len) {
  // Bitwise rather than a 512-byte table: RAM is scarce on small boards and frames are short.
  uint16_t crc = 0xFFFF;
  for (size_t i = 0; i < len; i++) {
    crc ^= (uint16_t)data[i] << 8;
    for (uint8_t b = 0; b < 8; b++) crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
  }
  return crc;
}

size_t cobsEncode(const uint8_t* src, size_t len, uint8_t* dst) {
  size_t out = 1, codeAt = 0;
  uint8_t code = 1;
  for (size_t i = 0; i < len; i++) {
    if (src[i] == 0) {
      dst[codeAt] = code;
      codeAt = out++;
      code = 1;
      continue;
    }
    dst[out++] = src[i];
    if (++code == 0xFF && i + 1 < len) {  // a full block; no trailing 0x01 at the very end
      dst[codeAt] = code;
      codeAt = out++;
      code = 1;
    }
  }
  dst[codeAt] = code;
  return out;
}

int cobsDecode(const uint8_t* src, size_t len, uint8_t* dst) {
  if (len == 0) return -1;
  size_t i = 0, out = 0;
  while (i < len) {
    uint8_t code = src[i];
    if (code == 0 || i + code > len) return -1;
    i++;
    for (uint8_t k = 1; k < code; k++) {
      if (src[i] == 0) return -1;
      dst[out++] = src[i++];
    }
    if (code != 0xFF && i < len) dst[out++] = 0;
  }
  return (int)out;
}

static void put32(uint8_t* p, uint32_t v) {
  for (uint8_t i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t* p, uint64_t v) {
  for (uint8_t i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t get64(const uint8_t* p) {
  return (uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32);
}
static void putFloat(uint8_t* p, float f) {
  uint32_t bits;
  memcpy(&bits, &f, 4);
  put32(p, bits);
}
static float getFloat(const uint8_t* p) {
  uint32_t bits = get32(p);
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static size_t header(uint8_t type, uint32_t session, uint32_t seq, uint64_t stampUs, uint8_t* p) {
  p[0] = type;
  put32(p + 1, session);
  put32(p + 5, seq);
  put64(p + 9, stampUs);
  return HEADER_BYTES;
}

// CRC, COBS and the delimiter around payload[0, len); payload must have 2 spare bytes.
static size_t frame(uint8_t* payload, size_t len, uint8_t* out) {
  uint16_t crc = crc16(payload, len);
  payload[len] = (uint8_t)crc;
  payload[len + 1] = (uint8_t)(crc >> 8);
  size_t n = cobsEncode(payload, len + 2, out);
  out[n] = 0;
  return n + 1;
}

size_t encodeState(uint32_t session, uint32_t seq, uint64_t stampUs, uint8_t channel, const float* values, uint8_t count, uint8_t* out) {
  uint8_t p[MAX_PAYLOAD + 2];
  if (count > MAX_VALUES) count = MAX_VALUES;
  size_t n = header(STATE, session, seq, stampUs, p);
  p[n++] = channel;
  p[n++] = count;
  for (uint8_t i = 0; i < count; i++, n += 4) putFloat(p + n, values[i]);
  return frame(p, n, out);
}

size_t encodeEstop(uint32_t session, uint32_t seq, uint64_t stampUs, const char* source, uint8_t* out) {
  uint8_t p[HEADER_BYTES + 1 + MAX_SOURCE_BYTES + 2];
  size_t len = strlen(source);
  if (len > MAX_SOURCE_BYTES) len = MAX_SOURCE_BYTES;
  size_t n = header(ESTOP, session, seq, stampUs, p);
  p[n++] = (uint8_t)len;
  memcpy(p + n, source, len);
  return frame(p, n + len, out);
}

static DropReason readFloats(const uint8_t* p, size_t at, size_t len, Message* out) {
  uint8_t count = p[at];
  if (len != at + 1 + 4u * count) return BAD_LENGTH;
  if (count > MAX_VALUES) return BAD_VALUE;
  out->count = count;
  for (uint8_t i = 0; i < count; i++) {
    out->values[i] = getFloat(p + at + 1 + 4 * i);
    if (!isfinite(out->values[i])) return BAD_VALUE;
  }
  return OK;
}

DropReason decodeFrame(const uint8_t* frame, size_t len, Message* out) {
  static uint8_t p[RX_LIMIT];
  if (len > RX_LIMIT) return BAD_LENGTH;
  int n = cobsDecode(frame, len, p);
  if (n < 0) return BAD_COBS;
  if ((size_t)n < HEADER_BYTES + 2) return TOO_SHORT;
  size_t body = (size_t)n - 2;
  if (crc16(p, body) != (uint16_t)(p[body] | (p[body + 1] << 8))) return BAD_CRC;
  out->type = p[0];
  out->session = get32(p + 1);
  out->seq = get32(p + 5);
  out->stampUs = get64(p + 9);
  out->count = 0;
  out->source[0] = '\0';
  if (out->stampUs > 4294967296000000ULL) return BAD_VALUE;  // 2^32 s
  switch (out->type) {
    case STATE:
      if (body < 19) return BAD_LENGTH;
      out->channel = p[17];
      return readFloats(p, 18, body, out);
    case COMMAND:
      if (body < 22) return BAD_LENGTH;
      out->ttlUs = get32(p + 17);
      if (out->ttlUs == 0) return BAD_VALUE;
      return readFloats(p, 21, body, out);
    case ESTOP:
      if (body < 18 || body != 18u + p[17]) return BAD_LENGTH;
      if (p[17] > MAX_SOURCE_BYTES) return BAD_VALUE;
      memcpy(out->source, p + 18, p[17]);  // UTF-8 is not validated here: the text is only logged
      out->source[p[17]] = '\0';
      return OK;
    case HEARTBEAT:
    case ARM:
    case DISARM:
      return body == HEADER_BYTES ? OK : BAD_LENGTH;
    default:
      return UNKNOWN_TYPE;
  }
}

bool Gate::noteSession(uint32_t session) {
  if (haveSession_ && session == session_) return false;
  reset();
  haveSession_ = true;
  session_ = session;
  return true;
}

void Gate::observeClock(uint64_t stampUs, uint64_t nowUs) {
  int64_t seen = (int64_t)nowUs - (int64_t)stampUs;
  if (haveOffset_) {
    // Relax the bound by driftPpm of the time since its last update (no overflow for gaps
    // under 2^64 / 10^5 us, about 5 years), then take the smaller of it and this frame.
    uint64_t sinceUs = nowUs > offsetAtUs_ ? nowUs - offsetAtUs_ : 0;
    int64_t relaxed = offsetUs_ + (int64_t)(sinceUs * driftPpm_ / 1000000);
    offsetUs_ = seen < relaxed ? seen : relaxed;
  } else {
    offsetUs_ = seen;
  }
  haveOffset_ = true;
  offsetAtUs_ = nowUs;
}

void Gate::observe(const Message& msg, uint64_t nowUs) {
  noteSession(msg.session);
  observeClock(msg.stampUs, nowUs);
}

Gate::Verdict Gate::check(const Message& cmd, uint64_t nowUs, uint64_t* expiryUs) {
  observe(cmd, nowUs);
  if (haveSeq_ && cmd.seq <= lastSeq_) return DUPLICATE_OR_OLD;
  int64_t ageUs = (int64_t)nowUs - (int64_t)cmd.stampUs - offsetUs_;
  if (ageUs > (int64_t)cmd.ttlUs) return STALE;
  haveSeq_ = true;
  lastSeq_ = cmd.seq;
  *expiryUs = (uint64_t)((int64_t)cmd.stampUs + offsetUs_ + (int64_t)cmd.ttlUs);
  return APPLY;
}

void Gate::reset() {
  haveSession_ = haveSeq_ = haveOffset_ = false;
  session_ = lastSeq_ = 0;
  offsetUs_ = 0;
  offsetAtUs_ = 0;
}

void SessionSeed::add(uint32_t word) {
  // xor, then multiply by an odd constant and xor-shift right twice: each is invertible on 32 bits.
  uint32_t h = h_ ^ word;
  h *= 0x9E3779B1u;
  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 13;
  h_ = h;
}

}  // namespace mpcd

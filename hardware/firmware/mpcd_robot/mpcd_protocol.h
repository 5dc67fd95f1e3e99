// mpcd serial protocol v1, robot side (hardware/protocol.md). Plain C++ with no Arduino
// dependency, so it can be unit-tested on a PC against hardware/test-vectors.json.
#pragma once
#include <stddef.h>
#include <stdint.h>

namespace mpcd {

const uint8_t STATE = 0x01, COMMAND = 0x02, HEARTBEAT = 0x03, ARM = 0x04, DISARM = 0x05, ESTOP = 0x06;
const uint8_t MAX_VALUES = 32;
const uint8_t MAX_SOURCE_BYTES = 32;
const size_t HEADER_BYTES = 17;
const size_t MAX_PAYLOAD = 22 + 4 * MAX_VALUES;          // a COMMAND with 32 values
const size_t MAX_FRAME = MAX_PAYLOAD + 2 + MAX_PAYLOAD / 254 + 2;  // COBS(payload + CRC) + delimiter
const size_t RX_LIMIT = 256;                             // longest frame a receiver keeps

enum DropReason : uint8_t { OK = 0, BAD_COBS, TOO_SHORT, BAD_CRC, UNKNOWN_TYPE, BAD_LENGTH, BAD_VALUE };

struct Message {
  uint8_t type;
  uint32_t session;
  uint32_t seq;
  uint64_t stampUs;
  uint32_t ttlUs;      // COMMAND
  uint8_t channel;     // STATE
  uint8_t count;       // STATE, COMMAND
  float values[MAX_VALUES];
  char source[MAX_SOURCE_BYTES + 1];  // ESTOP, NUL-terminated
};

// CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, xorout 0; "123456789" -> 0x29B1.
uint16_t crc16(const uint8_t* data, size_t len);

// COBS without the delimiter. encode: dst holds len + len/254 + 1 bytes; returns the encoded
// length. decode: dst holds len bytes; returns the decoded length, or -1 if invalid.
size_t cobsEncode(const uint8_t* src, size_t len, uint8_t* dst);
int cobsDecode(const uint8_t* src, size_t len, uint8_t* dst);

// Builds a whole frame (COBS, CRC, trailing 0x00) into out[MAX_FRAME]; returns its length.
size_t encodeState(uint32_t session, uint32_t seq, uint64_t stampUs, uint8_t channel, const float* values, uint8_t count, uint8_t* out);
size_t encodeEstop(uint32_t session, uint32_t seq, uint64_t stampUs, const char* source, uint8_t* out);

// Decodes one frame (the bytes between two 0x00, neither included). Returns OK or why not.
DropReason decodeFrame(const uint8_t* frame, size_t len, Message* out);

// The command rule of protocol.md ("The command rule"), as CommandGate in TypeScript.
class Gate {
 public:
  enum Verdict : uint8_t { APPLY, DUPLICATE_OR_OLD, STALE };
  // driftPpm: how fast the offset bound relaxes (robot and daemon clocks drift apart), in parts
  // per million; at least the two clocks' worst drift. 500 covers two crystals; a board clocked
  // by a ceramic resonator (up to 0.5 %) needs 5000. At most 100000.
  explicit Gate(uint32_t driftPpm = 500) : driftPpm_(driftPpm > 100000 ? 100000 : driftPpm) {}
  // Any daemon frame: a new session resets the sequence and the clock offset. True when the
  // session is not the one before (the first one included): the daemon (re)started.
  bool noteSession(uint32_t session);
  // Any daemon frame other than a COMMAND: its session noted and its stamp tightens the offset.
  void observe(const Message& msg, uint64_t nowUs);
  // A COMMAND received at robot time nowUs. On APPLY, *expiryUs is when it stops being valid.
  Verdict check(const Message& cmd, uint64_t nowUs, uint64_t* expiryUs);
  void reset();

 private:
  void observeClock(uint64_t stampUs, uint64_t nowUs);
  uint32_t driftPpm_;
  bool haveSession_ = false, haveSeq_ = false, haveOffset_ = false;
  uint32_t session_ = 0, lastSeq_ = 0;
  int64_t offsetUs_ = 0;  // robot clock - daemon clock, upper bound
  uint64_t offsetAtUs_ = 0;  // robot time the bound was last updated
};

// A session id from whatever a board has to offer at boot. add() each source (a hardware random
// number, a boot counter, ADC readings, uninitialised RAM); every step is a bijection of the
// 32-bit state, so two boots whose inputs differ in one word only (the boot counter) always get
// different ids, and real noise in any input makes the id random.
class SessionSeed {
 public:
  void add(uint32_t word);
  uint32_t session() const { return h_; }

 private:
  uint32_t h_ = 0x6D706364;  // "mpcd"
};

}  // namespace mpcd

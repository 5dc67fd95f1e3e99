// mpcd reference firmware: the robot's side of hardware/protocol.md for a cart-pole on an
// Arduino-class board (Uno/Nano: two encoder interrupts on pins 2 and 3). It publishes the
// encoders as STATE at a fixed rate, applies COMMANDs through the seq/ttl rule, and holds the
// safe action whenever it is disarmed, its command expired, the daemon went quiet, or the
// e-stop input is pressed. At every boot it does what protocol.md "Boot and clocks" asks: a new
// session id, seq from 0, stamps from a monotonic clock, disarmed until the daemon's ARM.
// Adapt the "robot" section to your hardware; keep the rest.
#include "mpcd_protocol.h"

#if defined(__AVR__)
#include <avr/eeprom.h>
#endif
#if defined(ESP32)
#if __has_include(<esp_random.h>)
#include <esp_random.h>
#else
#include <esp_system.h>
#endif
#endif

// ---- robot: pins, scales, rates --------------------------------------------------------
const uint32_t BAUD = 115200;
const uint8_t CART_ENC_A = 2, CART_ENC_B = 5;    // quadrature encoder of the cart (A on an interrupt pin)
const uint8_t POLE_ENC_A = 3, POLE_ENC_B = 6;    // quadrature encoder of the pole
const uint8_t ESTOP_PIN = 4;                     // normally-closed button to GND: HIGH = pressed or cut wire
const uint8_t MOTOR_PWM = 9, MOTOR_DIR = 8;      // H-bridge
const float CART_M_PER_COUNT = 0.0001f;          // belt pitch / counts per rev
const float POLE_RAD_PER_COUNT = 6.2831853f / 2400.0f;
const float NEWTON_PER_DUTY = 20.0f / 255.0f;    // motor force at full duty
const float SAFE_FORCE = 0.0f;                   // the safe action: the motor off
const uint32_t STATE_PERIOD_US = 10000;          // 100 Hz, twice a 50 Hz control loop
const uint32_t LINK_TIMEOUT_US = 250000;         // no valid frame from the daemon this long: link lost
const uint8_t CH_POS = 0, CH_VEL = 1;            // plant.channels[].id in the daemon's config
const uint8_t NOISE_PIN = A0;                    // an analog pin left unconnected: its noise seeds the session
const uint32_t GATE_DRIFT_PPM = 500;             // 5000 on a board clocked by a ceramic resonator
#if defined(__AVR__)
const uint16_t BOOT_COUNTER_ADDR = 0;            // 4 bytes of EEPROM nothing else uses: the boot counter
#endif

// ---- state -------------------------------------------------------------------------------
volatile long cartCount = 0, poleCount = 0;
uint32_t session = 0, txSeq = 0;                 // txSeq: 0 for the first frame of every boot
mpcd::Gate gate(GATE_DRIFT_PPM);
bool armed = false, estopLatched = false, everHeard = false;  // every boot starts disarmed
uint64_t lastHeardUs = 0, commandExpiryUs = 0, nextStateUs = 0, nextEstopReportUs = 0;
float commandForce = SAFE_FORCE;
long lastCart = 0, lastPole = 0;
uint8_t rx[mpcd::RX_LIMIT];
size_t rxLen = 0;
bool rxOverflow = false;
uint8_t tx[mpcd::MAX_FRAME];
uint32_t dropped = 0;  // frames that did not decode (inspect with a debugger or an extra channel)

void onCartEdge() { cartCount += digitalRead(CART_ENC_B) ? -1 : 1; }
void onPoleEdge() { poleCount += digitalRead(POLE_ENC_B) ? -1 : 1; }

// The stamps' clock: microseconds since boot, monotonic (nothing ever sets it). micros() wraps
// every 71 minutes; counting the wraps makes it 64-bit. loop() calls it far more often than
// once per wrap, which is all the wrap detection needs.
uint64_t micros64() {
  static uint32_t last = 0, high = 0;
  uint32_t now = micros();
  if (now < last) high++;
  last = now;
  return ((uint64_t)high << 32) | now;
}

#if defined(__AVR__)
// A RAM word the C runtime leaves alone: random-ish at power-up, kept across a reset.
uint32_t keptAcrossReset __attribute__((section(".noinit")));
#endif

// A session id that differs from the last boot's (protocol.md "Boot and clocks"). Every source
// the board has goes into one SessionSeed:
// - a hardware random number generator, where there is one (ESP32);
// - a boot counter in EEPROM (AVR): it alone makes every boot's id differ from the one before,
//   power cycles included (one EEPROM write per boot: 100 000 boots per cell);
// - a .noinit RAM word (AVR): whatever SRAM holds at power-up, and at a reset (the button, the
//   watchdog, the reset many boards do when the port opens) the last boot's id;
// - 32 readings of a floating analog pin, each with micros() when it was taken: the low bits
//   are noise.
// A board with none of the first three (add its own random source or counter here) gets only
// the ADC noise: usually enough, not guaranteed.
uint32_t bootSession() {
  mpcd::SessionSeed seed;
#if defined(ESP32)
  seed.add(esp_random());
#endif
#if defined(__AVR__)
  uint32_t* counter = (uint32_t*)(uintptr_t)BOOT_COUNTER_ADDR;
  uint32_t boots = eeprom_read_dword(counter) + 1;
  eeprom_update_dword(counter, boots);
  seed.add(boots);
  seed.add(keptAcrossReset);
#endif
  for (uint8_t i = 0; i < 32; i++) seed.add(((uint32_t)analogRead(NOISE_PIN) << 16) ^ (uint32_t)micros());
#if defined(__AVR__)
  keptAcrossReset = seed.session();
#endif
  return seed.session();
}

void writeMotor(float force) {
  float duty = force / NEWTON_PER_DUTY;
  if (duty > 255) duty = 255;
  if (duty < -255) duty = -255;
  digitalWrite(MOTOR_DIR, duty < 0 ? HIGH : LOW);
  analogWrite(MOTOR_PWM, (int)(duty < 0 ? -duty : duty));
}

void disarm() {
  armed = false;
  commandExpiryUs = 0;
}

void handleFrame(const uint8_t* frame, size_t len, uint64_t now) {
  static mpcd::Message m;
  if (mpcd::decodeFrame(frame, len, &m) != mpcd::OK || m.type == mpcd::STATE) {
    dropped++;
    return;
  }
  everHeard = true;
  lastHeardUs = now;
  // A daemon session not seen before (the first, or a restarted daemon): its seq and clock
  // start afresh in the gate, and only its own ARM may arm this robot.
  if (gate.noteSession(m.session)) disarm();
  if (m.type != mpcd::COMMAND) gate.observe(m, now);  // every daemon stamp tightens the clock offset
  switch (m.type) {
    case mpcd::COMMAND: {
      if (!armed) {
        gate.observe(m, now);  // disarmed: a command is never applied, not even after a later ARM
        break;
      }
      uint64_t expiry;
      if (m.count >= 1 && gate.check(m, now, &expiry) == mpcd::Gate::APPLY) {
        commandForce = m.values[0];
        commandExpiryUs = expiry;
      }
      break;
    }
    case mpcd::ARM:
      estopLatched = false;  // the daemon clears its own e-stop; the button still wins below
      armed = true;
      break;
    case mpcd::DISARM:
      disarm();
      break;
    case mpcd::ESTOP:
      estopLatched = true;
      disarm();
      break;
    default:  // HEARTBEAT: being heard is all it does
      break;
  }
}

void readSerial(uint64_t now) {
  while (Serial.available() > 0) {
    uint8_t b = (uint8_t)Serial.read();
    if (b == 0) {
      if (rxOverflow) dropped++;
      else if (rxLen > 0) handleFrame(rx, rxLen, now);
      rxLen = 0;
      rxOverflow = false;
    } else if (rxLen < sizeof rx) {
      rx[rxLen++] = b;
    } else {
      rxOverflow = true;  // drop the rest of this frame, never overrun the buffer
    }
  }
}

void publishState() {
  uint64_t measured = micros64();  // the stamp is when the values were measured
  noInterrupts();
  long cart = cartCount, pole = poleCount;
  interrupts();
  const float dt = STATE_PERIOD_US * 1e-6f;
  float pos[2] = {cart * CART_M_PER_COUNT, pole * POLE_RAD_PER_COUNT};
  float vel[2] = {(cart - lastCart) * CART_M_PER_COUNT / dt, (pole - lastPole) * POLE_RAD_PER_COUNT / dt};
  lastCart = cart;
  lastPole = pole;
  Serial.write(tx, mpcd::encodeState(session, txSeq++, measured, CH_POS, pos, 2, tx));
  Serial.write(tx, mpcd::encodeState(session, txSeq++, measured, CH_VEL, vel, 2, tx));
}

void setup() {
  pinMode(CART_ENC_A, INPUT_PULLUP);
  pinMode(CART_ENC_B, INPUT_PULLUP);
  pinMode(POLE_ENC_A, INPUT_PULLUP);
  pinMode(POLE_ENC_B, INPUT_PULLUP);
  pinMode(ESTOP_PIN, INPUT_PULLUP);
  pinMode(MOTOR_PWM, OUTPUT);
  pinMode(MOTOR_DIR, OUTPUT);
  writeMotor(SAFE_FORCE);
  attachInterrupt(digitalPinToInterrupt(CART_ENC_A), onCartEdge, RISING);
  attachInterrupt(digitalPinToInterrupt(POLE_ENC_A), onPoleEdge, RISING);
  session = bootSession();  // new at every boot; txSeq starts at 0, armed at false
  Serial.begin(BAUD);
  Serial.write((uint8_t)0);  // ends any partial frame the daemon holds from before a reset
  nextStateUs = micros64();
}

void loop() {
  uint64_t now = micros64();
  readSerial(now);

  bool linkLost = everHeard && now - lastHeardUs > LINK_TIMEOUT_US;
  if (linkLost) {
    disarm();  // the daemon must ARM again once it is back
    everHeard = false;
  }
  bool buttonPressed = digitalRead(ESTOP_PIN) == HIGH;
  if (buttonPressed) {
    disarm();
    if (now >= nextEstopReportUs) {  // at once, then every second while held
      Serial.write(tx, mpcd::encodeEstop(session, txSeq++, now, "button", tx));
      nextEstopReportUs = now + 1000000;
    }
  } else {
    nextEstopReportUs = 0;
  }

  bool safe = !armed || estopLatched || buttonPressed || now > commandExpiryUs;
  writeMotor(safe ? SAFE_FORCE : commandForce);

  if (now >= nextStateUs) {
    publishState();
    nextStateUs += STATE_PERIOD_US;
    if (now >= nextStateUs) nextStateUs = now + STATE_PERIOD_US;  // fell behind: skip, do not burst
  }
}

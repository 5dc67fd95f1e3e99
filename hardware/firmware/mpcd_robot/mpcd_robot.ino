// mpcd reference firmware: the robot's side of hardware/protocol.md for a cart-pole on an
// Arduino-class board (Uno/Nano: two encoder interrupts on pins 2 and 3). It publishes the
// encoders as STATE at a fixed rate, applies COMMANDs through the seq/ttl rule, and holds the
// safe action whenever it is disarmed, its command expired, the daemon went quiet, or the
// e-stop input is pressed. Adapt the "robot" section to your hardware; keep the rest.
#include "mpcd_protocol.h"

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

// ---- state -------------------------------------------------------------------------------
volatile long cartCount = 0, poleCount = 0;
uint32_t session = 0, txSeq = 0;
mpcd::Gate gate;
bool armed = false, estopLatched = false, everHeard = false;
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

// micros() wraps every 71 minutes; the protocol's stamps are 64-bit.
uint64_t micros64() {
  static uint32_t last = 0, high = 0;
  uint32_t now = micros();
  if (now < last) high++;
  last = now;
  return ((uint64_t)high << 32) | now;
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
  if (m.type != mpcd::COMMAND) gate.noteSession(m.session);  // a restarted daemon: start afresh
  switch (m.type) {
    case mpcd::COMMAND: {
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

void publishState(uint64_t now) {
  noInterrupts();
  long cart = cartCount, pole = poleCount;
  interrupts();
  const float dt = STATE_PERIOD_US * 1e-6f;
  float pos[2] = {cart * CART_M_PER_COUNT, pole * POLE_RAD_PER_COUNT};
  float vel[2] = {(cart - lastCart) * CART_M_PER_COUNT / dt, (pole - lastPole) * POLE_RAD_PER_COUNT / dt};
  lastCart = cart;
  lastPole = pole;
  Serial.write(tx, mpcd::encodeState(session, txSeq++, now, CH_POS, pos, 2, tx));
  Serial.write(tx, mpcd::encodeState(session, txSeq++, now, CH_VEL, vel, 2, tx));
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
  randomSeed(analogRead(A0) ^ micros());  // a floating pin's noise: a new session id per boot
  session = ((uint32_t)random(0x10000) << 16) | (uint32_t)random(0x10000);
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
    publishState(now);
    nextStateUs += STATE_PERIOD_US;
    if (now >= nextStateUs) nextStateUs = now + STATE_PERIOD_US;  // fell behind: skip, do not burst
  }
}

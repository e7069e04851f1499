/**
 * Feetech STS/SMS (STS3215) and SCS control tables as data (facts: shared/specs/lerobot.md §1.5–1.7).
 * Register names are a literal union derived from the table, so a typo fails to compile.
 */
export interface RegisterDef {
  readonly address: number;
  readonly size: 1 | 2 | 4;
  readonly area: 'eeprom' | 'ram' | 'ro';
}

export const STS_CONTROL_TABLE = {
  Firmware_Major_Version: { address: 0, size: 1, area: 'ro' },
  Firmware_Minor_Version: { address: 1, size: 1, area: 'ro' },
  Model_Number: { address: 3, size: 2, area: 'ro' },
  ID: { address: 5, size: 1, area: 'eeprom' },
  Baud_Rate: { address: 6, size: 1, area: 'eeprom' },
  Return_Delay_Time: { address: 7, size: 1, area: 'eeprom' },
  Response_Status_Level: { address: 8, size: 1, area: 'eeprom' },
  Min_Position_Limit: { address: 9, size: 2, area: 'eeprom' },
  Max_Position_Limit: { address: 11, size: 2, area: 'eeprom' },
  Max_Temperature_Limit: { address: 13, size: 1, area: 'eeprom' },
  Max_Voltage_Limit: { address: 14, size: 1, area: 'eeprom' },
  Min_Voltage_Limit: { address: 15, size: 1, area: 'eeprom' },
  Max_Torque_Limit: { address: 16, size: 2, area: 'eeprom' },
  Phase: { address: 18, size: 1, area: 'eeprom' },
  Unloading_Condition: { address: 19, size: 1, area: 'eeprom' },
  LED_Alarm_Condition: { address: 20, size: 1, area: 'eeprom' },
  P_Coefficient: { address: 21, size: 1, area: 'eeprom' },
  D_Coefficient: { address: 22, size: 1, area: 'eeprom' },
  I_Coefficient: { address: 23, size: 1, area: 'eeprom' },
  Minimum_Startup_Force: { address: 24, size: 2, area: 'eeprom' },
  CW_Dead_Zone: { address: 26, size: 1, area: 'eeprom' },
  CCW_Dead_Zone: { address: 27, size: 1, area: 'eeprom' },
  Protection_Current: { address: 28, size: 2, area: 'eeprom' },
  Angular_Resolution: { address: 30, size: 1, area: 'eeprom' },
  Homing_Offset: { address: 31, size: 2, area: 'eeprom' },
  Operating_Mode: { address: 33, size: 1, area: 'eeprom' },
  Protective_Torque: { address: 34, size: 1, area: 'eeprom' },
  Protection_Time: { address: 35, size: 1, area: 'eeprom' },
  Overload_Torque: { address: 36, size: 1, area: 'eeprom' },
  Velocity_closed_loop_P_proportional_coefficient: { address: 37, size: 1, area: 'eeprom' },
  Over_Current_Protection_Time: { address: 38, size: 1, area: 'eeprom' },
  Velocity_closed_loop_I_integral_coefficient: { address: 39, size: 1, area: 'eeprom' },
  Torque_Enable: { address: 40, size: 1, area: 'ram' },
  Acceleration: { address: 41, size: 1, area: 'ram' },
  Goal_Position: { address: 42, size: 2, area: 'ram' },
  Goal_Time: { address: 44, size: 2, area: 'ram' },
  Goal_Velocity: { address: 46, size: 2, area: 'ram' },
  Torque_Limit: { address: 48, size: 2, area: 'ram' },
  Lock: { address: 55, size: 1, area: 'ram' },
  Present_Position: { address: 56, size: 2, area: 'ro' },
  Present_Velocity: { address: 58, size: 2, area: 'ro' },
  Present_Load: { address: 60, size: 2, area: 'ro' },
  Present_Voltage: { address: 62, size: 1, area: 'ro' },
  Present_Temperature: { address: 63, size: 1, area: 'ro' },
  Status: { address: 65, size: 1, area: 'ro' },
  Moving: { address: 66, size: 1, area: 'ro' },
  Present_Current: { address: 69, size: 2, area: 'ro' },
  Goal_Position_2: { address: 71, size: 2, area: 'ro' },
  Maximum_Velocity_Limit: { address: 84, size: 1, area: 'eeprom' },
  Maximum_Acceleration: { address: 85, size: 1, area: 'eeprom' },
  Acceleration_Multiplier: { address: 86, size: 1, area: 'eeprom' },
} as const satisfies Record<string, RegisterDef>;

export type StsRegister = keyof typeof STS_CONTROL_TABLE;

/** Sign-magnitude sign bit per register (LeRobot STS_SMS_SERIES_ENCODINGS_TABLE). */
export const STS_SIGN_BITS: Partial<Record<StsRegister, number>> = {
  Homing_Offset: 11,
  Goal_Position: 15,
  Goal_Velocity: 15,
  Present_Position: 15,
  Present_Velocity: 15,
  Present_Load: 10,
};

/** SCS series (scs0009): big-endian, no Homing_Offset, no sign encoding (LeRobot SCS_SERIES_CONTROL_TABLE). */
export const SCS_CONTROL_TABLE = {
  Model_Number: { address: 3, size: 2, area: 'ro' },
  ID: { address: 5, size: 1, area: 'eeprom' },
  Baud_Rate: { address: 6, size: 1, area: 'eeprom' },
  Min_Position_Limit: { address: 9, size: 2, area: 'eeprom' },
  Max_Position_Limit: { address: 11, size: 2, area: 'eeprom' },
  Protective_Torque: { address: 37, size: 1, area: 'eeprom' },
  Protection_Time: { address: 38, size: 1, area: 'eeprom' },
  Torque_Enable: { address: 40, size: 1, area: 'ram' },
  Acceleration: { address: 41, size: 1, area: 'ram' },
  Goal_Position: { address: 42, size: 2, area: 'ram' },
  Running_Time: { address: 44, size: 2, area: 'ram' },
  Goal_Velocity: { address: 46, size: 2, area: 'ram' },
  Lock: { address: 48, size: 1, area: 'ram' },
  Present_Position: { address: 56, size: 2, area: 'ro' },
  Present_Velocity: { address: 58, size: 2, area: 'ro' },
  Present_Load: { address: 60, size: 2, area: 'ro' },
  Present_Voltage: { address: 62, size: 1, area: 'ro' },
  Present_Temperature: { address: 63, size: 1, area: 'ro' },
  Status: { address: 65, size: 1, area: 'ro' },
  Moving: { address: 66, size: 1, area: 'ro' },
} as const satisfies Record<string, RegisterDef>;

export type ScsRegister = keyof typeof SCS_CONTROL_TABLE;

export type FeetechModel = 'sts3215' | 'sts3250' | 'sm8512bl' | 'scs0009';

export const FEETECH_MODEL_NUMBER: Record<FeetechModel, number> = { sts3215: 777, sts3250: 2825, sm8512bl: 11272, scs0009: 1284 };
export const FEETECH_MODEL_RESOLUTION: Record<FeetechModel, number> = { sts3215: 4096, sts3250: 4096, sm8512bl: 4096, scs0009: 1024 };
/** 0 = STS/SMS (little-endian), 1 = SCS (big-endian). */
export const FEETECH_MODEL_PROTOCOL: Record<FeetechModel, 0 | 1> = { sts3215: 0, sts3250: 0, sm8512bl: 0, scs0009: 1 };

/**
 * Baud_Rate register index → baud, per Feetech's own INST.h / SMS_STS macros. LeRobot's table
 * differs at 5..7 (57600/38400/19200); Feetech's is what the servo firmware implements.
 */
export const FEETECH_BAUD_TABLE: Record<number, number> = {
  0: 1_000_000,
  1: 500_000,
  2: 250_000,
  3: 128_000,
  4: 115_200,
  5: 76_800,
  6: 57_600,
  7: 38_400,
};

/** Baud rates tried by a scan: LeRobot's SCAN_BAUDRATES plus 76,800 (fastest first). */
export const FEETECH_SCAN_BAUDRATES = [1_000_000, 500_000, 250_000, 128_000, 115_200, 76_800, 57_600, 38_400, 19_200, 14_400, 9_600, 4_800];

export const FEETECH_BROADCAST_ID = 0xfe;
export const FEETECH_MAX_ID = 0xfc;

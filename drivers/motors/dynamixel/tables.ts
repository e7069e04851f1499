/**
 * Dynamixel X-series control table (Protocol 2.0) as data (shared/specs/lerobot.md §2.3).
 */
export interface RegisterDef {
  readonly address: number;
  readonly size: 1 | 2 | 4;
  readonly area: 'eeprom' | 'ram' | 'ro';
}

export const X_CONTROL_TABLE = {
  Model_Number: { address: 0, size: 2, area: 'ro' },
  Model_Information: { address: 2, size: 4, area: 'ro' },
  Firmware_Version: { address: 6, size: 1, area: 'ro' },
  ID: { address: 7, size: 1, area: 'eeprom' },
  Baud_Rate: { address: 8, size: 1, area: 'eeprom' },
  Return_Delay_Time: { address: 9, size: 1, area: 'eeprom' },
  Drive_Mode: { address: 10, size: 1, area: 'eeprom' },
  Operating_Mode: { address: 11, size: 1, area: 'eeprom' },
  Secondary_ID: { address: 12, size: 1, area: 'eeprom' },
  Protocol_Type: { address: 13, size: 1, area: 'eeprom' },
  Homing_Offset: { address: 20, size: 4, area: 'eeprom' },
  Moving_Threshold: { address: 24, size: 4, area: 'eeprom' },
  Temperature_Limit: { address: 31, size: 1, area: 'eeprom' },
  Max_Voltage_Limit: { address: 32, size: 2, area: 'eeprom' },
  Min_Voltage_Limit: { address: 34, size: 2, area: 'eeprom' },
  PWM_Limit: { address: 36, size: 2, area: 'eeprom' },
  Current_Limit: { address: 38, size: 2, area: 'eeprom' },
  Acceleration_Limit: { address: 40, size: 4, area: 'eeprom' },
  Velocity_Limit: { address: 44, size: 4, area: 'eeprom' },
  Max_Position_Limit: { address: 48, size: 4, area: 'eeprom' },
  Min_Position_Limit: { address: 52, size: 4, area: 'eeprom' },
  Shutdown: { address: 63, size: 1, area: 'eeprom' },
  Torque_Enable: { address: 64, size: 1, area: 'ram' },
  LED: { address: 65, size: 1, area: 'ram' },
  Status_Return_Level: { address: 68, size: 1, area: 'ram' },
  Registered_Instruction: { address: 69, size: 1, area: 'ro' },
  Hardware_Error_Status: { address: 70, size: 1, area: 'ro' },
  Velocity_I_Gain: { address: 76, size: 2, area: 'ram' },
  Velocity_P_Gain: { address: 78, size: 2, area: 'ram' },
  Position_D_Gain: { address: 80, size: 2, area: 'ram' },
  Position_I_Gain: { address: 82, size: 2, area: 'ram' },
  Position_P_Gain: { address: 84, size: 2, area: 'ram' },
  Feedforward_2nd_Gain: { address: 88, size: 2, area: 'ram' },
  Feedforward_1st_Gain: { address: 90, size: 2, area: 'ram' },
  Bus_Watchdog: { address: 98, size: 1, area: 'ram' },
  Goal_PWM: { address: 100, size: 2, area: 'ram' },
  Goal_Current: { address: 102, size: 2, area: 'ram' },
  Goal_Velocity: { address: 104, size: 4, area: 'ram' },
  Profile_Acceleration: { address: 108, size: 4, area: 'ram' },
  Profile_Velocity: { address: 112, size: 4, area: 'ram' },
  Goal_Position: { address: 116, size: 4, area: 'ram' },
  Realtime_Tick: { address: 120, size: 2, area: 'ro' },
  Moving: { address: 122, size: 1, area: 'ro' },
  Moving_Status: { address: 123, size: 1, area: 'ro' },
  Present_PWM: { address: 124, size: 2, area: 'ro' },
  Present_Current: { address: 126, size: 2, area: 'ro' },
  Present_Velocity: { address: 128, size: 4, area: 'ro' },
  Present_Position: { address: 132, size: 4, area: 'ro' },
  Velocity_Trajectory: { address: 136, size: 4, area: 'ro' },
  Position_Trajectory: { address: 140, size: 4, area: 'ro' },
  Present_Input_Voltage: { address: 144, size: 2, area: 'ro' },
  Present_Temperature: { address: 146, size: 1, area: 'ro' },
} as const satisfies Record<string, RegisterDef>;

export type XRegister = keyof typeof X_CONTROL_TABLE;

/** Two's-complement registers (LeRobot X_SERIES_ENCODINGS_TABLE). */
export const X_SIGNED: ReadonlySet<XRegister> = new Set<XRegister>([
  'Homing_Offset',
  'Goal_PWM',
  'Goal_Current',
  'Goal_Velocity',
  'Goal_Position',
  'Present_Position',
  'Present_PWM',
  'Present_Current',
  'Present_Velocity',
]);

export type DynamixelModel = 'xl330-m077' | 'xl330-m288' | 'xl430-w250' | 'xm430-w350' | 'xm540-w270' | 'xc430-w150' | 'xh540-w150' | 'xc330-t288' | 'xc330-t181';

export const DXL_MODEL_NUMBER: Record<DynamixelModel, number> = {
  'xl330-m077': 1190,
  'xl330-m288': 1200,
  'xl430-w250': 1060,
  'xm430-w350': 1020,
  'xm540-w270': 1120,
  'xc430-w150': 1070,
  'xh540-w150': 1110,
  'xc330-t288': 1220,
  'xc330-t181': 1210,
};

/** Baud_Rate register index → baud. */
export const DXL_BAUD_TABLE: Record<number, number> = { 0: 9_600, 1: 57_600, 2: 115_200, 3: 1_000_000, 4: 2_000_000, 5: 3_000_000, 6: 4_000_000 };
export const DXL_SCAN_BAUDRATES = [1_000_000, 57_600, 2_000_000, 3_000_000, 4_000_000, 115_200, 9_600];

export const DXL_OPERATING_MODE = { current: 0, velocity: 1, position: 3, extended_position: 4, current_based_position: 5, pwm: 16 } as const;

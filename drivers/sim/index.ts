/**
 * The simulated SO-101 tabletop: world, tasks, kinematics, cameras, robot and scripted expert.
 *
 * In the console's loop, SimRobot owns time (it steps the world to the clock on every read/write)
 * and SimCameraWorker renders the cameras off the loop's thread from world snapshots (SimCamera, which
 * renders lazily on read, is for tests and simulated-clock recording). Stand-alone (data generation, tests):
 *
 *   const world = new SimWorld({ seed: 1, family: 'pick_place' });
 *   const expert = new ScriptedExpert(world);           // fps 30 by default
 *   for (let i = 0; i < 600; i++) {
 *     const { goal, annotation, done } = expert.act();
 *     if (done) break;
 *     world.setGoal(goal);
 *     world.step(1000 / 30);
 *   }
 *
 * Frames: +x forward from the base, +y the arm's left, +z up, metres; joints in degrees, gripper
 * 0 (open) .. 100 (closed). See kinematics.ts for the angle conventions.
 */
export {
  SO101_JOINTS,
  SO101_LIMITS,
  SO101_GEOMETRY,
  forwardKinematics,
  inverseKinematics,
  clampToLimits,
  withinLimits,
  gripperGap,
  gripperForGap,
  rollForYaw,
  wrapDeg,
  type Vec3,
  type SO101JointName,
  type SimJointLimit,
  type LinkFrame,
  type ArmPose,
  type IkTarget,
  type IkResult,
} from './kinematics';
export { mulberry32, type Rng } from './rng';
export { SimWorld, BLOCK_COLORS, BLOCK_SIZE, MAX_SPEED, closingYawDeg, type Block, type BlockColor, type Bowl, type SimWorldOptions } from './world';
export {
  TASK_FAMILIES,
  PUSH_SUCCESS_DISTANCE,
  makeTask,
  isTaskSuccess,
  type TaskFamily,
  type Task,
  type PickPlaceTask,
  type PushTask,
  type StackTask,
} from './tasks';
export {
  SimRenderer,
  FRONT_CAMERA,
  wristCameraModel,
  cameraModelFor,
  projectPoint,
  projectToFront,
  visibleObjects,
  renderView,
  type CameraModel,
  type SimCameraKey,
  type VisibleObject,
} from './render';
export { SimCamera, type SimCameraConfig, type SimCameraOptions } from './SimCamera';
export { SimCameraWorker, WorkerSimCamera, type SimCameraWorkerConfig, type SimCameraWorkerOptions } from './SimCameraWorker';
export { encodeWorldSnapshot, snapshotLength, SnapshotScene } from './sceneSnapshot';
export { SimRobot, type SimRobotOptions } from './SimRobot';
export { ScriptedExpert, type ExpertAnnotation, type ExpertStep, type ExpertOptions } from './expert';

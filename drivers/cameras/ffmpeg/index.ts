export { FfmpegCamera, captureInputArgs, listCameraDevices, parseAvfoundationDevices, parseDshowDevices, parseV4l2Formats, type CameraDevice, type FfmpegCameraOptions, type InputFormat, type CapturePlatform } from './FfmpegCamera';
export { FfmpegStreamCamera, CameraError, rawOutputArgs, type StreamCameraOptions } from './stream';

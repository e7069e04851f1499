export { FileCamera, fileInputArgs, type FileCameraOptions, type FileSource } from './FileCamera';

/** The container's TimerService (JSR 289 §17): timers owned by application sessions. */
export { TimerServiceImpl } from './timer-service.js';

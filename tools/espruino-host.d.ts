/* For the host type check only: firmware modules that touch Espruino globals are imported by tests. */
declare var E: any;
declare function getTime(): number;

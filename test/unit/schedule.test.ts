import { expect } from 'chai';
import { expandSchedule, scheduleProblem, timeZoneProblem } from '../../api/v1alpha1/schedule.js';

describe('cron schedules', () => {
  for (const ok of [
    '*/5 * * * *',
    '30 2 * * *',
    '0 0 * * MON-FRI',
    '0 12 1 JAN,JUL *',
    '@daily',
    '@hourly',
    '0 0 ? * *',
    '15 10 * * 7',
  ]) {
    it(`accepts ${ok}`, () => expect(scheduleProblem(ok)).to.equal(undefined));
  }
  const bad: [string, RegExp][] = [
    ['* * * *', /must have 5 fields/],
    ['0 * * * * *', /must have 5 fields/],
    ['61 * * * *', /minute: 61/],
    ['0 25 * * *', /hour/],
    ['0 0 31 2 *', /never fires/],
    ['0 0 L * *', /unsupported day of month field "L"/],
    ['0 0 * * 5#3', /unsupported day of week field/],
    ['0 0 * * FOO', /unsupported day of week field "FOO"/],
  ];
  for (const [expr, message] of bad) {
    it(`rejects ${expr}`, () => expect(scheduleProblem(expr)).to.match(message));
  }
  it('expands descriptors the way CronJobs do', () => {
    expect(expandSchedule('@weekly')).to.equal('0 0 * * 0');
    expect(expandSchedule('@midnight')).to.equal('0 0 * * *');
  });
});

describe('time zones', () => {
  for (const tz of ['UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5']) {
    it(`knows ${tz}`, () => expect(timeZoneProblem(tz)).to.equal(undefined));
  }
  for (const tz of ['Mars/Olympus', 'Europe/Atlantis', 'CEST+2']) {
    it(`refuses ${tz}`, () => expect(timeZoneProblem(tz)).to.include(`unknown time zone "${tz}"`));
  }
});

DROP TABLE schedule_exceptions;
ALTER TABLE services DROP COLUMN by_appointment;
ALTER TABLE services DROP COLUMN open_24_hours;
ALTER TABLE schedules DROP COLUMN overnight;

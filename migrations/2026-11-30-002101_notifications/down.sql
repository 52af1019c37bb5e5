DROP TABLE notification_preference;
DROP TABLE notification;

//! Journeys with the six services started inside the test process on free ports, each with its
//! own database, AMQP namespace and Redis prefix (`common::spawn_stack`): the capture front's
//! screens, cookies, CSRF, the role × route matrix and credential sheets (`front`); capture to
//! review to publication and statistics, scope, windows, photos, bulk capture, substitutions,
//! traces and the broker's faults (`journeys`); identity statistics under differential privacy
//! (`privacy`).

mod common;
mod final_report;
mod front;
mod journeys;
mod mail;
mod own_fields;
mod privacy;

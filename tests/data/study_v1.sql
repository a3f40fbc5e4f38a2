-- Frozen CobbDesk study, schema version 1 (before films.pixel_rows/pixel_columns and the
-- pixel-hash index). Loaded by tests/core/store/test_migrations.py; never edit by hand.
BEGIN TRANSACTION;
CREATE TABLE audit (
	seq INTEGER NOT NULL, 
	utc VARCHAR(32) NOT NULL, 
	actor VARCHAR(64) NOT NULL, 
	rater VARCHAR(64) NOT NULL, 
	entity VARCHAR(32) NOT NULL, 
	entity_id VARCHAR(64) NOT NULL, 
	field VARCHAR(64) NOT NULL, 
	old_value TEXT, 
	new_value TEXT, 
	reason TEXT NOT NULL, 
	app_version VARCHAR(16) NOT NULL, 
	prev_hash VARCHAR(64) NOT NULL, 
	hash VARCHAR(64) NOT NULL, 
	PRIMARY KEY (seq)
);
INSERT INTO "audit" VALUES(1,'2026-11-23T05:01:50.352984Z','builder','rater_a','study','v1.cobbdesk','created',NULL,'v2','','0.1.0','0000000000000000000000000000000000000000000000000000000000000000','1f339ef0d6c951abea8788173625a6a0daf6fe18526986244781b6b866ba2b04');
INSERT INTO "audit" VALUES(2,'2026-11-23T05:01:50.358295Z','builder','rater_a','patient','1','study_id',NULL,'P0001','','0.1.0','1f339ef0d6c951abea8788173625a6a0daf6fe18526986244781b6b866ba2b04','83f1b04234ca49b8f553d370d3bcca1312266ed7ed1c598b92c209de89c1698a');
INSERT INTO "audit" VALUES(3,'2026-11-23T05:01:50.360636Z','builder','rater_a','visit','1','kind',NULL,'admission','','0.1.0','83f1b04234ca49b8f553d370d3bcca1312266ed7ed1c598b92c209de89c1698a','50c42d492af27875479d8b7e92a2639baa394e26dba5c2779052fc0b67cbb316');
INSERT INTO "audit" VALUES(4,'2026-11-23T05:01:50.360636Z','builder','rater_a','visit','1','visit_date',NULL,'2025-01-10','','0.1.0','50c42d492af27875479d8b7e92a2639baa394e26dba5c2779052fc0b67cbb316','743e9e86e022584c72ad0690a985d5176f4a704dd81cf3cfa2dd7436ca0a65f1');
INSERT INTO "audit" VALUES(5,'2026-11-23T05:01:50.363841Z','builder','rater_a','film','1','sop_instance_uid',NULL,'1.2.826.0.1.3680043.8.498.1','','0.1.0','743e9e86e022584c72ad0690a985d5176f4a704dd81cf3cfa2dd7436ca0a65f1','3719139bd37885406060b87462e82c0c3c16b17c25c96250da32b5045dc24da7');
INSERT INTO "audit" VALUES(6,'2026-11-23T05:01:50.363841Z','builder','rater_a','film','1','region',NULL,'cervical','','0.1.0','3719139bd37885406060b87462e82c0c3c16b17c25c96250da32b5045dc24da7','686c2416fea848bc53d78b7f9e032a1481604fdfc0f747fe4fc36bf2b7fe3757');
INSERT INTO "audit" VALUES(7,'2026-11-23T05:01:50.369305Z','builder','rater_a','measurement','00000000-0000-4000-8000-000000000001','angle_deg',NULL,'27.8973','','0.1.0','686c2416fea848bc53d78b7f9e032a1481604fdfc0f747fe4fc36bf2b7fe3757','179dd952d32ac1dc7fd5e46cf241eb22fc2d1bee1628da206dbe7e27405677d0');
INSERT INTO "audit" VALUES(8,'2026-11-23T05:01:50.375640Z','builder','rater_a','labs','1','vas',NULL,'6.0','','0.1.0','179dd952d32ac1dc7fd5e46cf241eb22fc2d1bee1628da206dbe7e27405677d0','e3e848f0afe7c764bc254f7ff2c8fb26bfec28213130e2dd32ede59d6ff42a68');
INSERT INTO "audit" VALUES(9,'2026-11-23T05:01:50.375640Z','builder','rater_a','labs','1','neutrophil',NULL,'5.1','','0.1.0','e3e848f0afe7c764bc254f7ff2c8fb26bfec28213130e2dd32ede59d6ff42a68','73cd004e06e9cb014efc47fe329825e3b0016c703765e7cab7f29cab5de7aeaa');
INSERT INTO "audit" VALUES(10,'2026-11-23T05:01:50.375640Z','builder','rater_a','labs','1','lymphocyte',NULL,'1.7','','0.1.0','73cd004e06e9cb014efc47fe329825e3b0016c703765e7cab7f29cab5de7aeaa','989bc5cf1bc8f58f13c92db5d5a46edf7376ca6789b5e1e6ea330b051e236189');
INSERT INTO "audit" VALUES(11,'2026-11-23T05:01:50.375640Z','builder','rater_a','labs','1','crp',NULL,'12.0','','0.1.0','989bc5cf1bc8f58f13c92db5d5a46edf7376ca6789b5e1e6ea330b051e236189','fda36c93e04aaff974d233b2042f38ee1873d0a42946f8f856fa77cceecf97ea');
CREATE TABLE films (
	id INTEGER NOT NULL, 
	visit_id INTEGER NOT NULL, 
	sop_instance_uid VARCHAR(64) NOT NULL, 
	pixel_sha256 VARCHAR(64), 
	path TEXT NOT NULL, 
	region VARCHAR(16) NOT NULL CHECK (region IN ('cervical', 'lumbar', 'unknown')), 
	"view" VARCHAR(16) NOT NULL, 
	study_date VARCHAR(10), 
	created_utc VARCHAR(32) NOT NULL, 
	deleted_utc VARCHAR(32), 
	PRIMARY KEY (id), 
	FOREIGN KEY(visit_id) REFERENCES visits (id), 
	UNIQUE (sop_instance_uid)
);
INSERT INTO "films" VALUES(1,1,'1.2.826.0.1.3680043.8.498.1','cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc','/films/a.dcm','cervical','LL','2025-01-10','2026-11-23T05:01:50.362488Z',NULL);
CREATE TABLE labs (
	id INTEGER NOT NULL, 
	visit_id INTEGER NOT NULL, 
	name VARCHAR(16) NOT NULL, 
	value_num FLOAT, 
	value_text VARCHAR(16), 
	unit VARCHAR(16) NOT NULL, 
	updated_utc VARCHAR(32) NOT NULL, 
	deleted_utc VARCHAR(32), 
	PRIMARY KEY (id), 
	CONSTRAINT uq_lab_per_visit UNIQUE (visit_id, name), 
	FOREIGN KEY(visit_id) REFERENCES visits (id)
);
INSERT INTO "labs" VALUES(1,1,'vas',6.0,NULL,'','2026-11-23T05:01:50.371796Z',NULL);
INSERT INTO "labs" VALUES(2,1,'neutrophil',5.1,NULL,'×10⁹/L','2026-11-23T05:01:50.373468Z',NULL);
INSERT INTO "labs" VALUES(3,1,'lymphocyte',1.7,NULL,'×10⁹/L','2026-11-23T05:01:50.374156Z',NULL);
INSERT INTO "labs" VALUES(4,1,'crp',12.0,NULL,'mg/L','2026-11-23T05:01:50.374797Z',NULL);
CREATE TABLE measurements (
	id VARCHAR(36) NOT NULL, 
	film_id INTEGER NOT NULL, 
	rater VARCHAR(64) NOT NULL, 
	template VARCHAR(8) NOT NULL, 
	upper_anterior_x FLOAT NOT NULL, 
	upper_anterior_y FLOAT NOT NULL, 
	upper_posterior_x FLOAT NOT NULL, 
	upper_posterior_y FLOAT NOT NULL, 
	lower_anterior_x FLOAT NOT NULL, 
	lower_anterior_y FLOAT NOT NULL, 
	lower_posterior_x FLOAT NOT NULL, 
	lower_posterior_y FLOAT NOT NULL, 
	spacing_row_mm FLOAT, 
	spacing_col_mm FLOAT, 
	spacing_source VARCHAR(32) NOT NULL, 
	angle_deg FLOAT NOT NULL, 
	algorithm_version VARCHAR(16) NOT NULL, 
	created_utc VARCHAR(32) NOT NULL, 
	updated_utc VARCHAR(32) NOT NULL, 
	deleted_utc VARCHAR(32), 
	PRIMARY KEY (id), 
	FOREIGN KEY(film_id) REFERENCES films (id)
);
INSERT INTO "measurements" VALUES('00000000-0000-4000-8000-000000000001',1,'rater_a','C2-C7',100.0,200.0,160.0,210.0,100.0,400.0,160.0,380.0,0.15,0.15,'PixelSpacing',2.789727103094762839e+01,'cobbdesk-cobb-1','2025-01-11T09:00:00.000000Z','2025-01-11T09:00:00.000000Z',NULL);
CREATE TABLE meta (
	"key" VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "meta" VALUES('schema_version','1');
CREATE TABLE patients (
	id INTEGER NOT NULL, 
	study_id VARCHAR(64) NOT NULL, 
	dicom_patient_id VARCHAR(64), 
	name TEXT, 
	mrn VARCHAR(64), 
	birth_date VARCHAR(10), 
	sex VARCHAR(1) CHECK (sex IN ('F', 'M', 'O')), 
	dose_mg_kg_day FLOAT CHECK (dose_mg_kg_day >= 0), 
	duration_months FLOAT CHECK (duration_months >= 0), 
	created_utc VARCHAR(32) NOT NULL, 
	deleted_utc VARCHAR(32), 
	PRIMARY KEY (id), 
	UNIQUE (study_id)
);
INSERT INTO "patients" VALUES(1,'P0001','PID-1','Legacy^Patient',NULL,'1960-02-03','M',0.5,24.0,'2026-11-23T05:01:50.357047Z',NULL);
CREATE TABLE visits (
	id INTEGER NOT NULL, 
	patient_id INTEGER NOT NULL, 
	kind VARCHAR(16) NOT NULL CHECK (kind IN ('admission', 'month3', 'other')), 
	label VARCHAR(64) NOT NULL, 
	visit_date VARCHAR(10), 
	created_utc VARCHAR(32) NOT NULL, 
	deleted_utc VARCHAR(32), 
	PRIMARY KEY (id), 
	CONSTRAINT uq_visit_kind UNIQUE (patient_id, kind, label), 
	FOREIGN KEY(patient_id) REFERENCES patients (id)
);
INSERT INTO "visits" VALUES(1,1,'admission','','2025-01-10','2026-11-23T05:01:50.359454Z',NULL);
CREATE INDEX ix_patients_dicom_patient_id ON patients (dicom_patient_id);
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE INDEX ix_visits_patient_id ON visits (patient_id);
CREATE INDEX ix_films_visit_id ON films (visit_id);
CREATE INDEX ix_labs_visit_id ON labs (visit_id);
CREATE INDEX ix_measurements_film_id ON measurements (film_id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
COMMIT;

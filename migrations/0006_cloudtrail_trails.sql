-- CloudTrail trails. `document` is the trail's configuration (the Trail shape plus its event,
-- advanced event and insight selectors and tags) as JSON; `status` holds what delivery last
-- did (GetTrailStatus); `cursor_seq` is the last journal record the trail has delivered.

CREATE TABLE cloudtrail_trails (
    account_id  TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    document    TEXT    NOT NULL,
    logging     INTEGER NOT NULL DEFAULT 0,
    cursor_seq  INTEGER NOT NULL DEFAULT 0,
    status      TEXT    NOT NULL DEFAULT '{}',
    PRIMARY KEY (account_id, region, name)
) WITHOUT ROWID;

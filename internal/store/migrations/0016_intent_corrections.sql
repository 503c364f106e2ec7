-- An agent may correct a message's intent: who did and when, so that the
-- corrections can be exported as labelled data for the classifier (NULL:
-- the classifier's own label).
ALTER TABLE messages ADD COLUMN intent_by BIGINT;
ALTER TABLE messages ADD COLUMN intent_corrected_at BIGINT;
CREATE INDEX messages_intent_corrected ON messages (intent_corrected_at) WHERE intent_corrected_at IS NOT NULL;

package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/vernetzen/vernetzen/internal/inbox"
)

// messageInsertColumns are the columns one ingested message fills.
const messageInsertColumns = `channel_id, external_id, kind, author_external_id, author_name, author_handle, text, url,
	in_reply_to, thread_id, created_at, received_at, unit_id, intent, lang, models, score, status, conversation, queue, updated_at,
	sla_due_at, sla_warn_at`

const nMessageInsertColumns = 23

// messageChunk is how many rows one INSERT carries: 400 × 23 parameters
// stays well under both engines' limits.
const messageChunk = 400

// insertMessagesSQL renders a multi-row INSERT … ON CONFLICT DO NOTHING
// RETURNING for n rows. SQLite gets positional ? parameters: it resolves
// $n parameters by name, which costs quadratic time in a statement with
// thousands of them.
func insertMessagesSQL(n int, positional bool) string {
	var b strings.Builder
	b.Grow(n * 120)
	b.WriteString(`INSERT INTO messages (` + messageInsertColumns + `) VALUES `)
	p := 1
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := 0; j < nMessageInsertColumns; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			if positional {
				b.WriteByte('?')
			} else {
				fmt.Fprintf(&b, "$%d", p)
			}
			p++
		}
		b.WriteByte(')')
	}
	b.WriteString(` ON CONFLICT (channel_id, external_id) DO NOTHING RETURNING id, channel_id, external_id`)
	return b.String()
}

var fullChunkSQL = map[bool]string{false: insertMessagesSQL(messageChunk, false), true: insertMessagesSQL(messageChunk, true)}

// InsertMessages stores inbound messages, skipping those already stored
// (same channel and platform id); it returns how many were new.
func (s *Store) InsertMessages(ctx context.Context, msgs []inbox.Message) (int, error) {
	stored, err := s.IngestMessages(ctx, msgs)
	return len(stored), err
}

// IngestMessages stores a batch of inbound messages in one transaction
// (joining the caller's, if any): multi-row INSERTs that skip messages
// already stored, then the leads of the new purchase-intent messages. It
// returns the messages that were new, with their ids.
func (s *Store) IngestMessages(ctx context.Context, msgs []inbox.Message) ([]inbox.Message, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	var stored []inbox.Message
	// Prepared on the pool, before the transaction takes SQLite's one
	// write connection.
	var stmt *sql.Stmt
	if !s.inTx && len(msgs) >= messageChunk {
		stmt = s.insertStmt(ctx, s.engine == SQLite)
	}
	err := s.InTx(ctx, func(tx *Store) error {
		now := s.now()
		if err := tx.fillUnits(ctx, msgs); err != nil {
			return err
		}
		index := make(map[string]int, len(msgs))
		for i := range msgs {
			index[msgKey(msgs[i].ChannelID, msgs[i].ExternalID)] = i
		}
		args := make([]any, 0, messageChunk*nMessageInsertColumns)
		for start := 0; start < len(msgs); start += messageChunk {
			end := min(start+messageChunk, len(msgs))
			args = args[:0]
			for i := start; i < end; i++ {
				m := &msgs[i]
				var unit any
				if m.UnitID != 0 {
					unit = m.UnitID
				}
				status := m.Status
				if status == "" {
					status = inbox.StatusOpen
				}
				args = append(args, m.ChannelID, m.ExternalID, m.Kind, m.AuthorExternalID, m.AuthorName, m.AuthorHandle, m.Text,
					m.URL, m.InReplyTo, m.ThreadID, ms(m.CreatedAt), ms(now), unit, m.Intent, m.Lang, strings.Join(m.Models, "|"),
					m.Score, status, m.Conversation, m.Queue, ms(now), nullMS(m.SLADueAt), nullMS(m.SLAWarnAt))
			}
			positional := s.engine == SQLite
			q := fullChunkSQL[positional]
			if end-start != messageChunk {
				q = insertMessagesSQL(end-start, positional)
			}
			var rows *sql.Rows
			var err error
			if stmt != nil && end-start == messageChunk && tx.Tx() != nil {
				rows, err = tx.Tx().StmtContext(ctx, stmt).QueryContext(ctx, args...)
			} else {
				rows, err = tx.w.QueryContext(ctx, q, args...)
			}
			if err != nil {
				return fmt.Errorf("store: insert messages: %w", err)
			}
			for rows.Next() {
				var id, ch int64
				var ext string
				if err := rows.Scan(&id, &ch, &ext); err != nil {
					rows.Close()
					return err
				}
				if i, ok := index[msgKey(ch, ext)]; ok {
					m := msgs[i]
					m.ID, m.ReceivedAt = id, now
					if m.Status == "" {
						m.Status = inbox.StatusOpen
					}
					stored = append(stored, m)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("store: insert messages: %w", err)
			}
		}
		return tx.upsertLeads(ctx, stored, now)
	})
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// insertStmts holds, per write pool, the full-chunk INSERT prepared once:
// parsing a statement of thousands of parameters costs more than running
// it on SQLite.
var insertStmts sync.Map // *sql.DB → *sql.Stmt

func (s *Store) insertStmt(ctx context.Context, positional bool) *sql.Stmt {
	if !positional {
		return nil
	}
	if v, ok := insertStmts.Load(s.wdb); ok {
		return v.(*sql.Stmt)
	}
	stmt, err := s.wdb.PrepareContext(ctx, fullChunkSQL[positional])
	if err != nil {
		return nil
	}
	if v, loaded := insertStmts.LoadOrStore(s.wdb, stmt); loaded {
		stmt.Close()
		return v.(*sql.Stmt)
	}
	return stmt
}

func msgKey(channelID int64, externalID string) string {
	return fmt.Sprintf("%d\x00%s", channelID, externalID)
}

// fillUnits routes messages that arrive without a unit to their channel's.
func (s *Store) fillUnits(ctx context.Context, msgs []inbox.Message) error {
	units := map[int64]int64{}
	for i := range msgs {
		m := &msgs[i]
		if m.UnitID != 0 {
			continue
		}
		u, ok := units[m.ChannelID]
		if !ok {
			err := s.w.QueryRowContext(ctx, `SELECT unit_id FROM channels WHERE id = $1`, m.ChannelID).Scan(&u)
			if err != nil && !isNoRows(err) {
				return fmt.Errorf("store: unit of channel %d: %w", m.ChannelID, err)
			}
			units[m.ChannelID] = u
		}
		m.UnitID = u
	}
	return nil
}

const messageSelect = `SELECT m.id, m.channel_id, m.external_id, m.kind, m.author_external_id, m.author_name, m.author_handle,
	m.text, m.url, m.in_reply_to, m.thread_id, m.created_at, m.received_at, COALESCE(m.unit_id, 0), COALESCE(u.key, ''),
	m.intent, m.lang, m.models, m.score, m.status, m.conversation, COALESCE(m.assigned_user_id, 0), m.queue, COALESCE(m.lead_id, 0), m.first_response_at,
	m.sla_due_at, m.sla_warn_at
	FROM messages m LEFT JOIN units u ON u.id = m.unit_id`

func scanMessage(row scanner) (inbox.Message, error) {
	var m inbox.Message
	var created, received int64
	var models string
	var firstResp, slaDue, slaWarn sql.NullInt64
	err := row.Scan(&m.ID, &m.ChannelID, &m.ExternalID, &m.Kind, &m.AuthorExternalID, &m.AuthorName, &m.AuthorHandle,
		&m.Text, &m.URL, &m.InReplyTo, &m.ThreadID, &created, &received, &m.UnitID, &m.Unit,
		&m.Intent, &m.Lang, &models, &m.Score, &m.Status, &m.Conversation, &m.AssignedTo, &m.Queue, &m.LeadID, &firstResp, &slaDue, &slaWarn)
	m.CreatedAt, m.ReceivedAt = fromMS(created), fromMS(received)
	m.Models = splitModels(models)
	m.FirstResponseAt, m.SLADueAt, m.SLAWarnAt = fromNullMS(firstResp), fromNullMS(slaDue), fromNullMS(slaWarn)
	return m, err
}

func splitModels(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "|")
}

// ftsQuery turns user text into an FTS5 query of quoted words (all must
// match), so that no input is FTS5 syntax.
func ftsQuery(text string) string {
	words := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for i, w := range words {
		words[i] = `"` + w + `"`
	}
	return strings.Join(words, " ")
}

// messageWhere renders the filter and the caller's scope (unit paths; nil
// is everything) as a WHERE clause.
//
// With scan set, the columns are written +m.col so that SQLite walks the
// primary key newest first and stops at the page's end, instead of
// collecting and sorting every match through an index: the right plan
// when matches are dense.
func (s *Store) messageWhere(scope []string, f inbox.Filter, scan bool) (string, []any) {
	var conds []string
	var args []any
	col := "m."
	if scan {
		col = "+m."
	}
	// The caller's scope and the unit filter meet in one list of units:
	// two lists would have the database walk the whole of one of them
	// (a brand's million messages for an agent of one market) and test
	// each message against the other.
	var unitConds []string
	if scope != nil {
		var c string
		c, args = scopeClause("path", scope, args)
		unitConds = append(unitConds, c)
	}
	if f.UnitPath != "" {
		args = append(args, escapeLike(f.UnitPath)+"%")
		unitConds = append(unitConds, fmt.Sprintf("path LIKE $%d ESCAPE '\\'", len(args)))
	}
	if len(unitConds) > 0 {
		conds = append(conds, col+"unit_id IN (SELECT id FROM units WHERE "+strings.Join(unitConds, " AND ")+")")
	} else if s.engine == SQLite && (f.Status != "" || f.Intent != "" || f.Lang != "") {
		// Unscoped (the system): the triage fields are indexed behind the
		// unit, so name every unit, and the messages routed to none.
		conds = append(conds, "("+col+"unit_id IN (SELECT id FROM units) OR "+col+"unit_id IS NULL)")
	}
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.ChannelID != 0 {
		add(col+"channel_id = $%d", f.ChannelID)
	}
	if f.Intent != "" {
		add(col+"intent = $%d", f.Intent)
	}
	if f.Lang != "" {
		add(col+"lang = $%d", f.Lang)
	}
	if f.Queue != "" {
		add(col+"queue = $%d", f.Queue)
	}
	if f.Status != "" {
		add(col+"status = $%d", f.Status)
	}
	if f.Assigned != 0 {
		add(col+"assigned_user_id = $%d", f.Assigned)
	}
	if f.Conversation != "" {
		add(col+"conversation = $%d", f.Conversation)
	}
	if f.Team != 0 {
		add("("+col+"channel_id, "+col+"conversation) IN (SELECT channel_id, conversation FROM conversation_teams WHERE team_id = $%d)", f.Team)
	}
	if f.TeamOf != 0 {
		add("("+col+"channel_id, "+col+"conversation) IN (SELECT ct.channel_id, ct.conversation FROM conversation_teams ct JOIN team_members tm ON tm.team_id = ct.team_id WHERE tm.user_id = $%d)", f.TeamOf)
	}
	switch f.SLA {
	case inbox.SLABreached:
		add(col+"sla_due_at <= $%d AND "+col+"first_response_at IS NULL AND "+col+"status <> 'closed'", ms(f.Now))
	case inbox.SLADueSoon:
		add(col+"sla_warn_at <= $%d AND "+col+"first_response_at IS NULL AND "+col+"status <> 'closed'", ms(f.Now))
		add(col+"sla_due_at > $%d", ms(f.Now))
	}
	if f.Tag != "" {
		add("EXISTS (SELECT 1 FROM conversation_tags ct WHERE ct.channel_id = m.channel_id AND ct.conversation = m.conversation AND ct.tag = $%d)", f.Tag)
	}
	if f.BeforeID != 0 {
		add("m.id < $%d", f.BeforeID)
	}
	if f.AfterID != 0 {
		add("m.id > $%d", f.AfterID)
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		if s.engine == Postgres {
			add("m.tsv @@ plainto_tsquery('simple', $%d)", t)
		} else if q := ftsQuery(t); q != "" {
			add("m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH $%d)", q)
		}
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Messages lists messages newest first, with the total that match.
func (s *Store) Messages(ctx context.Context, scope []string, f inbox.Filter) ([]inbox.Message, int, error) {
	where, args := s.messageWhere(scope, f, false)
	var total int
	countSQL, countArgs := `SELECT COUNT(*) FROM messages m`+where, args
	if f.CountLimit > 0 {
		countSQL = fmt.Sprintf(`SELECT COUNT(*) FROM (SELECT 1 FROM messages m%s LIMIT %d) c`, where, f.CountLimit)
	}
	// Text alone, for an unscoped caller: the full-text index counts its
	// matches without reading a message row for each.
	textOnly := inbox.Filter{Text: f.Text, Now: f.Now, Limit: f.Limit, Offset: f.Offset, CountLimit: f.CountLimit}
	if q := ftsQuery(f.Text); s.engine == SQLite && scope == nil && q != "" && f == textOnly {
		countSQL, countArgs = `SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH $1`, []any{q}
		if f.CountLimit > 0 {
			countSQL = fmt.Sprintf(`SELECT COUNT(*) FROM (SELECT rowid FROM messages_fts WHERE messages_fts MATCH $1 LIMIT %d) c`, f.CountLimit)
		}
	}
	if err := s.r.QueryRowContext(ctx, countSQL, countArgs...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: count messages: %w", err)
	}
	if total == 0 {
		return []inbox.Message{}, 0, nil
	}
	// Dense matches (over 1% of all messages): walk the primary key.
	if s.engine == SQLite && strings.TrimSpace(f.Text) == "" && where != "" {
		var maxID int64
		if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM messages`).Scan(&maxID); err != nil {
			return nil, 0, fmt.Errorf("store: count messages: %w", err)
		}
		capped := f.CountLimit > 0 && total >= f.CountLimit
		if maxID > 0 && (capped || float64(total)/float64(maxID) > 0.01) {
			where, args = s.messageWhere(scope, f, true)
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	args = append(args, limit, f.Offset)
	// The page's ids first, then their rows: the ids come from the
	// filter's covering index (or the primary key walk) without reading a
	// message row for every match.
	rows, err := s.r.QueryContext(ctx, messageSelect+` WHERE m.id IN (SELECT m.id FROM messages m`+where+
		fmt.Sprintf(" ORDER BY m.id DESC LIMIT $%d OFFSET $%d) ORDER BY m.id DESC", len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: messages: %w", err)
	}
	defer rows.Close()
	list := []inbox.Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, 0, err
		}
		list = append(list, m)
	}
	return list, total, rows.Err()
}

// MessageByID returns one message with its routed unit's path.
func (s *Store) MessageByID(ctx context.Context, id int64) (inbox.Message, string, error) {
	row := s.r.QueryRowContext(ctx, strings.Replace(messageSelect, "SELECT ", "SELECT COALESCE(u.path, ''), ", 1)+` WHERE m.id = $1`, id)
	var path string
	var m inbox.Message
	var created, received int64
	var models string
	var firstResp, slaDue, slaWarn sql.NullInt64
	err := row.Scan(&path, &m.ID, &m.ChannelID, &m.ExternalID, &m.Kind, &m.AuthorExternalID, &m.AuthorName, &m.AuthorHandle,
		&m.Text, &m.URL, &m.InReplyTo, &m.ThreadID, &created, &received, &m.UnitID, &m.Unit,
		&m.Intent, &m.Lang, &models, &m.Score, &m.Status, &m.Conversation, &m.AssignedTo, &m.Queue, &m.LeadID, &firstResp, &slaDue, &slaWarn)
	if isNoRows(err) {
		return m, "", errNoRows
	}
	if err != nil {
		return m, "", fmt.Errorf("store: message %d: %w", id, err)
	}
	m.CreatedAt, m.ReceivedAt = fromMS(created), fromMS(received)
	m.Models = splitModels(models)
	m.FirstResponseAt, m.SLADueAt, m.SLAWarnAt = fromNullMS(firstResp), fromNullMS(slaDue), fromNullMS(slaWarn)
	return m, path, nil
}

// UpdateConversation sets the status and assignee of every message of a
// conversation (assignee 0: nobody).
func (s *Store) UpdateConversation(ctx context.Context, channelID int64, conversation, status string, assignee int64) error {
	var a any
	if assignee != 0 {
		a = assignee
	}
	_, err := s.w.ExecContext(ctx, `UPDATE messages SET status = $1, assigned_user_id = $2, updated_at = $3
		WHERE channel_id = $4 AND conversation = $5`, status, a, ms(s.now()), channelID, conversation)
	if err != nil {
		return fmt.Errorf("store: update conversation: %w", err)
	}
	return nil
}

// AddNote stores an internal note on a message.
func (s *Store) AddNote(ctx context.Context, n *inbox.Note) error {
	n.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	var user any
	if n.UserID != 0 {
		user = n.UserID
	}
	err := s.w.QueryRowContext(ctx, `INSERT INTO message_notes (message_id, user_id, text, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		n.MessageID, user, n.Text, ms(n.CreatedAt)).Scan(&n.ID)
	if err != nil {
		return fmt.Errorf("store: add note: %w", err)
	}
	return nil
}

// Notes lists the notes on the messages of a conversation, oldest first.
func (s *Store) Notes(ctx context.Context, channelID int64, conversation string) ([]inbox.Note, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT n.id, n.message_id, COALESCE(n.user_id, 0), COALESCE(u.email, ''), n.text, n.created_at
		FROM message_notes n JOIN messages m ON m.id = n.message_id LEFT JOIN users u ON u.id = n.user_id
		WHERE m.channel_id = $1 AND m.conversation = $2 ORDER BY n.id`, channelID, conversation)
	if err != nil {
		return nil, fmt.Errorf("store: notes: %w", err)
	}
	defer rows.Close()
	list := []inbox.Note{}
	for rows.Next() {
		var n inbox.Note
		var created int64
		if err := rows.Scan(&n.ID, &n.MessageID, &n.UserID, &n.Author, &n.Text, &created); err != nil {
			return nil, err
		}
		n.CreatedAt = fromMS(created)
		list = append(list, n)
	}
	return list, rows.Err()
}

// InboxUnits lists every unit's id, key, name, kind and path (for routing).
func (s *Store) InboxUnits(ctx context.Context) ([]inbox.UnitRef, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, key, name, kind, path, time_zone FROM units`)
	if err != nil {
		return nil, fmt.Errorf("store: units: %w", err)
	}
	defer rows.Close()
	var list []inbox.UnitRef
	for rows.Next() {
		var u inbox.UnitRef
		if err := rows.Scan(&u.ID, &u.Key, &u.Name, &u.Kind, &u.Path, &u.TimeZone); err != nil {
			return nil, err
		}
		list = append(list, u)
	}
	return list, rows.Err()
}

// InboxChannels lists every channel's id, unit and platform (for routing).
func (s *Store) InboxChannels(ctx context.Context) ([]inbox.ChannelRef, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.id, c.unit_id, c.platform, c.name, c.handle FROM channels c`)
	if err != nil {
		return nil, fmt.Errorf("store: channels: %w", err)
	}
	defer rows.Close()
	var list []inbox.ChannelRef
	for rows.Next() {
		var c inbox.ChannelRef
		if err := rows.Scan(&c.ID, &c.UnitID, &c.Platform, &c.Name, &c.Handle); err != nil {
			return nil, err
		}
		list = append(list, c)
	}
	return list, rows.Err()
}

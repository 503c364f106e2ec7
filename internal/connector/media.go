package connector

import (
	"errors"
	"io"
	"mime/multipart"
	"net/textproto"
	"sort"
)

// MultipartMedia returns a Request.GetBody that streams a
// multipart/form-data body with the given fields and m's bytes under
// fileField, and the body's Content-Type. The file is reopened for each
// attempt and never held in memory whole.
func MultipartMedia(fields map[string]string, fileField string, m Media) (getBody func() (io.ReadCloser, error), contentType string) {
	boundary := multipart.NewWriter(io.Discard).Boundary()
	getBody = func() (io.ReadCloser, error) {
		if m.Open == nil {
			return nil, errors.New("connector: media has no Open")
		}
		src, err := m.Open()
		if err != nil {
			return nil, err
		}
		pr, pw := io.Pipe()
		go func() {
			defer src.Close()
			mw := multipart.NewWriter(pw)
			mw.SetBoundary(boundary)
			keys := make([]string, 0, len(fields))
			for k := range fields {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if err := mw.WriteField(k, fields[k]); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
			h := textproto.MIMEHeader{}
			name := m.Filename
			if name == "" {
				name = "upload"
			}
			h.Set("Content-Disposition", `form-data; name="`+escapeQuotes(fileField)+`"; filename="`+escapeQuotes(name)+`"`)
			ct := m.ContentType
			if ct == "" {
				ct = "application/octet-stream"
			}
			h.Set("Content-Type", ct)
			part, err := mw.CreatePart(h)
			if err == nil {
				_, err = io.Copy(part, src)
			}
			if err == nil {
				err = mw.Close()
			}
			pw.CloseWithError(err)
		}()
		return pr, nil
	}
	return getBody, "multipart/form-data; boundary=" + boundary
}

func escapeQuotes(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '"' || r == '\\' || r == '\r' || r == '\n' {
			out = append(out, '_')
			continue
		}
		out = append(out, r)
	}
	return string(out)
}

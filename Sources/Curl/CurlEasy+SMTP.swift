import CCurl

extension CurlEasy {
    /// Submits one message; returns the server's final reply code (250 on success).
    ///
    /// A rejected recipient, a 4xx/5xx reply, a TLS or connection failure comes back as `CurlError`
    /// carrying curl's text and the last reply code.
    public func send(_ envelope: SMTPEnvelope, using config: SMTPConfiguration) throws(CurlError) -> Int {
        reset()
        set(CURLOPT_URL, config.url)
        switch config.tls {
        case .required: set(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
        case .opportunistic: set(CURLOPT_USE_SSL, Int(CURLUSESSL_TRY.rawValue))
        case .off: set(CURLOPT_USE_SSL, Int(CURLUSESSL_NONE.rawValue))
        }
        if let user = config.username { set(CURLOPT_USERNAME, user) }
        if let password = config.password { set(CURLOPT_PASSWORD, password) }
        if let ca = config.caFile { set(CURLOPT_CAINFO, ca) }
        set(CURLOPT_PROTOCOLS_STR, "smtp,smtps")
        set(CURLOPT_CONNECTTIMEOUT_MS, Int(config.connectTimeout * 1000))
        set(CURLOPT_TIMEOUT_MS, Int(config.timeout * 1000))
        set(CURLOPT_MAIL_FROM, "<\(envelope.from)>")
        let recipients = CurlStringList(envelope.recipients.map { "<\($0)>" })
        set(CURLOPT_MAIL_RCPT, recipients)
        let source = UploadSource(envelope.message)
        set(CURLOPT_UPLOAD, 1)
        _ = hd_curl_setopt_read_function(handle, UploadSource.readCallback)
        _ = hd_curl_setopt_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(source).toOpaque())
        _ = hd_curl_setopt_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(envelope.message.count))
        let failure = withExtendedLifetime((recipients, source)) { perform() }
        // Drop the pointers into objects that die with this call before anything else can read them.
        _ = hd_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, nil)
        _ = hd_curl_setopt_pointer(handle, CURLOPT_READDATA, nil)
        if let failure { throw failure }
        return responseCode
    }
}

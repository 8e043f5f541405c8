# frozen_string_literal: true

# The lab's Mastodon media worker: stores, reads back, re-permissions and batch-deletes media
# through Mastodon 4.4's own storage code (config/initializers/paperclip.rb, kt-paperclip 7.2.2,
# UpdateMediaAttachmentsPermissionsService) and Debian's aws-sdk-s3, with the env file read by
# the dotenv Mastodon pins. Only the pieces of Rails that code touches are stood in for, below.
#
#   ruby worker.rb ENV_FILE      then one JSON request a line on stdin, one JSON answer a line on stdout
#
# Requests: {"op": "store", "id": "ID", "path": "/tmp/HEX.jpg", "content_type": "image/jpeg", "preview": false}
#           {"op": "read", "id", "file_name", "content_type", "style": "original"}
#           {"op": "permissions", "id", "file_name", "content_type", "direction": "private"|"public"}
#           {"op": "destroy", "id", "file_name", "content_type"}   the media's own DELETE
#           {"op": "delete", "records": [{"id", "file_name", "content_type"}, ...]}   a batch, as cleanups do
#           {"op": "settings"}   what Mastodon's code made of the env file (no secrets)
# Answers:  {"ok": true, ...} or {"ok": false, "error": "Class: message", "log": "what Mastodon logged"}

HERE = File.expand_path(__dir__)
$LOAD_PATH.unshift(File.join(HERE, 'dotenv-3.1.8', 'lib'),
                   File.join(HERE, 'kt-paperclip-7.2.2', 'lib'),
                   File.join(HERE, 'terrapin-1.1.0', 'lib'))

require 'json'
require 'logger'
require 'stringio'
require 'tempfile'
require 'fileutils'
require 'digest'
require 'pathname'
require 'dotenv'

ENV_FILE = ARGV.fetch(0)
Dotenv.load(ENV_FILE)      # as Mastodon's boot does: the file fills what the environment lacks
# the env file is read: what this worker uses from now on, whatever the file says later (a change
# needs a restart, as Mastodon's does). Said at once; loading the rest takes about a second more.
$stdout.sync = true
$stdout.puts JSON.generate(ok: true, env_read: true)

require 'active_support'
require 'active_support/core_ext'
require 'active_model'

LOG = StringIO.new          # what Mastodon's code logs during one request, returned with its answer

# -- the few pieces of Rails Mastodon's storage code touches ------------------------------------
module Rails
  Config = Struct.new(:x)

  def self.root = Pathname.new(File.dirname(File.expand_path(ENV_FILE)))
  def self.env = ActiveSupport::StringInquirer.new('production')
  def self.logger = (@logger ||= Logger.new(LOG))

  def self.configuration
    @configuration ||= Config.new(ActiveSupport::OrderedOptions.new.tap do |x|
      x.cache_buster = ActiveSupport::OrderedOptions.new.tap { |c| c.enabled = false }
    end)
  end

  def self.application = self
  def self.reloader = self
  def self.to_prepare = yield
end

# Stoplight's circuit breaker, passed through: the lab wants every error as it happens.
class PassThroughLight
  def with_threshold(*) = self
  def with_cool_off_time(*) = self
  def with_error_handler(*) = self
  def run = yield
end

def Stoplight(*) = PassThroughLight.new # rubocop:disable Naming/MethodName

class BaseService; end

require 'paperclip'
Paperclip.options[:log] = true
Paperclip.logger = Rails.logger

MASTODON = File.join(HERE, 'mastodon-v4.4.22')
require File.join(MASTODON, 'lib/paperclip/attachment_extensions')
require File.join(MASTODON, 'lib/paperclip/url_generator_extensions')
Paperclip::DataUriAdapter.singleton_class.define_method(:register) { nil } unless Paperclip::DataUriAdapter.respond_to?(:register)
module Paperclip
  class ResponseWithLimitAdapter
    def self.register; end
  end
end
load File.join(MASTODON, 'config/initializers/paperclip.rb')
require File.join(MASTODON, 'app/services/update_media_attachments_permissions_service')

# Image processing stands in as a copy: keys, names, ACLs and headers still come from Mastodon's code.
module Paperclip
  class LabCopy < Processor
    PREVIEW = "\x89PNG lab preview".b

    def make
      format = options[:format]
      out = Tempfile.new(['lab', format ? ".#{format}" : File.extname(file.path)])
      out.binmode
      if format && ".#{format}" != File.extname(file.path)
        out.write(PREVIEW)
      else
        File.open(file.path, 'rb') { |f| IO.copy_stream(f, out) }
      end
      out.flush
      out.rewind
      out
    end
  end
end
Paperclip.configure { |c| c.register_processor :lab_copy, Paperclip::LabCopy }

# What a browser's upload is to Rails: a file with the name and type the browser gave.
class LabUploadedFile
  attr_reader :original_filename, :content_type, :tempfile

  def initialize(path, content_type)
    @tempfile = File.open(path, 'rb')
    @original_filename = File.basename(path)
    @content_type = content_type
  end

  def path = @tempfile.path
  def read(*args) = @tempfile.read(*args)
  def rewind = @tempfile.rewind
  def size = @tempfile.size
  def close = @tempfile.close
  def eof? = @tempfile.eof?
end
Paperclip::UploadedFileAdapter.content_type_detector = nil

# A MediaAttachment as far as storage goes: Mastodon's attachment `file`, an original and a small style.
class MediaAttachment
  include ActiveModel::Model
  include ActiveModel::Validations
  extend ActiveModel::Callbacks
  define_model_callbacks :save, :destroy
  include Paperclip::Glue

  DEFAULT_STYLES = [:original].freeze
  IMAGE = %w(image/jpeg image/png image/gif image/webp).freeze

  attr_accessor :id, :file_file_name, :file_content_type, :file_file_size, :file_updated_at,
                :file_fingerprint, :file_storage_schema_version, :file_meta

  has_attached_file :file,
                    styles: ->(f) { IMAGE.include?(f.instance.file_content_type) ? { small: {} } : { small: { format: 'png' } } },
                    processors: [:lab_copy],
                    validate_media_type: false
  validates_attachment_content_type :file, content_type: %r{\A(image|video|audio)/}

  def local? = true

  def self.find_each_from(records) = records
end

# `find_each` over the records the request names, as ActiveRecord's scope would yield them.
class LabScope
  def initialize(records) = (@records = records)
  def find_each(&) = @records.each(&)
end

def record(req)
  MediaAttachment.new(id: req.fetch('id').to_i).tap do |m|
    m.file_file_name = req.fetch('file_name')
    m.file_content_type = req.fetch('content_type')
    m.file_storage_schema_version = 1
  end
end

def styles_of(media)
  (MediaAttachment::DEFAULT_STYLES | media.file.styles.keys)
end

# The object's key in the bucket, or for local storage its path under public/system.
def key_of(media, style)
  path = media.file.path(style)
  return path.sub(%r{\A/}, '') unless Paperclip::Attachment.default_options[:storage] == :filesystem

  root = Rails.configuration.x.file_storage_root_path.sub(':rails_root', Rails.root.to_s)
  path.delete_prefix("#{root}/")
end

def store(req)
  media = MediaAttachment.new(id: req.fetch('id').to_i)
  media.file_content_type = req.fetch('content_type')
  media.file = LabUploadedFile.new(req.fetch('path'), req.fetch('content_type'))
  media.file.save
  styles = styles_of(media)
  { keys: styles.to_h { |s| [s, key_of(media, s)] },
    urls: styles.to_h { |s| [s, media.file.url(s)] },
    file_name: media.file_file_name, content_type: media.file_content_type }
end

def read(req)
  media = record(req)
  style = (req['style'] || 'original').to_sym
  dest = Tempfile.new('lab-read')
  dest.close
  done = media.file.copy_to_local_file(style, dest.path)
  return { copied: false, key: key_of(media, style) } if done == false

  body = File.binread(dest.path)
  { copied: true, size: body.bytesize, sha256: Digest::SHA256.hexdigest(body) }
ensure
  dest&.unlink
end

# DELETE /api/v1/media/:id: the record's destroy, which deletes each style's object (errors ignored, as kt-paperclip does).
def destroy(req)
  media = record(req)
  keys = styles_of(media).map { |s| key_of(media, s) }
  media.file.send(:queue_all_for_delete)
  media.file.send(:flush_deletes)
  { keys: keys }
end

def permissions(req)
  media = record(req)
  UpdateMediaAttachmentsPermissionsService.new.call(LabScope.new([media]), req.fetch('direction').to_sym)
  { keys: styles_of(media).map { |s| key_of(media, s) } }
end

# Mastodon's AttachmentBatch#remove_files as 4.4 runs it (app/lib/attachment_batch.rb is not among
# the vendored files: this follows its description): DeleteObjects in slices of S3_BATCH_DELETE_LIMIT
# keys with the attachment's own client (S3_READ_TIMEOUT; 4.5.3 raised it to 120 s for this call),
# S3_BATCH_DELETE_RETRY retries with 2**n s of back-off.
def delete(req)
  records = req.fetch('records').map { |r| record(r) }
  keys = records.flat_map { |m| styles_of(m).map { |s| m.file.send(:style_name_as_path, s) } }
  limit = ENV.fetch('S3_BATCH_DELETE_LIMIT', 1000).to_i
  retries = ENV.fetch('S3_BATCH_DELETE_RETRY', 3).to_i
  bucket = records.first.file.s3_bucket
  calls = 0
  keys.each_slice(limit) do |slice|
    tries = 0
    begin
      calls += 1
      bucket.client.delete_objects(bucket: bucket.name, delete: { objects: slice.map { |key| { key: key } }, quiet: true })
    rescue Aws::S3::Errors::ServiceError, Seahorse::Client::NetworkingError => e
      tries += 1
      raise e if tries > retries

      Rails.logger.error "Batch delete failed (try #{tries} of #{retries}): #{e.class}: #{e.message}"
      sleep(2**tries) unless ENV['LAB_NO_BACKOFF'] == 'true'
      retry
    end
  end
  { keys: keys, calls: calls }
end

def settings
  o = Paperclip::Attachment.default_options
  s3 = o[:s3_options] || {}
  { storage: o[:storage], path: o[:path], s3_permissions: o[:s3_permissions].is_a?(Proc) ? nil : o[:s3_permissions],
    s3_headers: o[:s3_headers], s3_region: o[:s3_region], bucket: (o[:s3_credentials] || {})[:bucket],
    endpoint: s3[:endpoint], force_path_style: s3[:force_path_style], http_open_timeout: s3[:http_open_timeout],
    http_read_timeout: s3[:http_read_timeout], retry_limit: s3[:retry_limit], url: o[:url],
    s3_host_alias: o[:s3_host_alias], sdk: defined?(Aws::S3) ? Aws::S3::GEM_VERSION : nil }
end

OPS = { 'store' => method(:store), 'read' => method(:read), 'permissions' => method(:permissions),
        'delete' => method(:delete), 'destroy' => method(:destroy), 'settings' => ->(_req) { settings } }.freeze

$stdout.puts JSON.generate(ok: true, ready: true, sdk: defined?(Aws::S3) ? Aws::S3::GEM_VERSION : nil)
$stdin.each_line do |line|
  LOG.truncate(0)
  LOG.rewind
  req = JSON.parse(line)
  old_stderr = $stderr
  $stderr = LOG # kt-paperclip's `warn` (copy_to_local_file's failure) goes to the answer's log
  answer = begin
    { ok: true }.merge(OPS.fetch(req['op']).call(req))
  rescue StandardError => e
    { ok: false, error: "#{e.class}: #{e.message}" }
  ensure
    $stderr = old_stderr
  end
  $stdout.puts JSON.generate(answer.merge(log: LOG.string))
end

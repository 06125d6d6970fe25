using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace ImageCaptioning.Features;

/// <summary>
/// Read-only memory-mapped access to the first <see cref="Count"/> float32 rows of an npy file. The rows are mapped
/// in windows of whole rows, each when first read, so only the touched parts of the file take address space and
/// the operating system decides what stays resident. Reads are thread-safe.
/// </summary>
internal sealed unsafe class MappedRows : IDisposable
{
    private readonly MemoryMappedFile? file;
    private readonly long dataOffset;
    private readonly int dimension;
    private readonly long rowBytes;
    private readonly int rowsPerView;
    private readonly MemoryMappedViewAccessor?[] views;
    private readonly nint[] pointers;
    private readonly Lock mapLock = new();
    private bool disposed;

    public MappedRows(string path, long dataOffset, int dimension, int count, long viewBytes)
    {
        this.dataOffset = dataOffset;
        this.dimension = dimension;
        rowBytes = (long)dimension * sizeof(float);
        Count = count;
        rowsPerView = (int)Math.Clamp(viewBytes / rowBytes, 1, Math.Max(1, count));
        var viewCount = count == 0 ? 0 : (count + rowsPerView - 1) / rowsPerView;
        views = new MemoryMappedViewAccessor?[viewCount];
        pointers = new nint[viewCount];
        if (count == 0) return;

        // FileShare.ReadWrite: the store's writer appends to the same file while it is mapped.
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            // Capacity 0 maps the file's current length (.NET refuses a smaller one); an uncommitted tail past the
            // rows is mapped but never read.
            file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read,
                HandleInheritability.None, leaveOpen: false);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Rows mapped.</summary>
    public int Count { get; }

    /// <summary>Rows per mapped window.</summary>
    public int RowsPerView => rowsPerView;

    /// <summary>Windows mapped so far.</summary>
    public int MappedViews => views.Count(v => v is not null);

    public void Read(int row, Span<float> destination)
    {
        var view = row / rowsPerView;
        var pointer = Volatile.Read(ref pointers[view]);
        if (pointer == 0) pointer = Map(view);
        var source = new ReadOnlySpan<float>((byte*)pointer + (row - (long)view * rowsPerView) * rowBytes, dimension);
        source.CopyTo(destination);
    }

    /// <summary>Adds the bytes of rows <paramref name="firstRow"/> to <paramref name="firstRow"/> + <paramref name="rows"/> − 1 to <paramref name="hash"/>.</summary>
    public void AppendTo(System.Security.Cryptography.IncrementalHash hash, long firstRow, int rows)
    {
        // Spans are int-sized: hash at most this many rows' bytes at once.
        var rowsPerSpan = (int)Math.Max(1, (1L << 30) / rowBytes);
        var row = firstRow;
        var end = firstRow + rows;
        while (row < end)
        {
            var view = (int)(row / rowsPerView);
            var pointer = Volatile.Read(ref pointers[view]);
            if (pointer == 0) pointer = Map(view);
            var viewStart = (long)view * rowsPerView;
            var take = Math.Min(Math.Min(end, viewStart + rowsPerView) - row, rowsPerSpan);
            hash.AppendData(new ReadOnlySpan<byte>((byte*)pointer + (row - viewStart) * rowBytes, checked((int)(take * rowBytes))));
            row += take;
        }
    }

    private nint Map(int view)
    {
        lock (mapLock)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (pointers[view] != 0) return pointers[view];
            var firstRow = (long)view * rowsPerView;
            var rows = Math.Min(rowsPerView, Count - firstRow);
            var accessor = file!.CreateViewAccessor(dataOffset + firstRow * rowBytes, rows * rowBytes, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            accessor.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            views[view] = accessor;
            var start = (nint)(pointer + accessor.PointerOffset);
            Volatile.Write(ref pointers[view], start);
            return start;
        }
    }

    public void Dispose()
    {
        lock (mapLock)
        {
            if (disposed) return;
            disposed = true;
            for (var i = 0; i < views.Length; i++)
            {
                if (views[i] is not { } accessor) continue;
                pointers[i] = 0;
                accessor.SafeMemoryMappedViewHandle.ReleasePointer();
                accessor.Dispose();
                views[i] = null;
            }

            file?.Dispose();
        }
    }

    /// <summary>Whether the platform's float layout matches the file's little-endian float32.</summary>
    public static bool LayoutSupported => BitConverter.IsLittleEndian && Marshal.SizeOf<float>() == 4;
}
